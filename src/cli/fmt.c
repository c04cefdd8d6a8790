/*
 * amtprov - cli/fmt.c: what the admin CLI prints, as pure functions
 * (program amtprov): aligned tables, ages, durations, times and progress
 * bars.  See cli.h.  Text that came from the site (host names, step
 * details, error messages) is untrusted: it is cleaned of control bytes
 * and cut to CLI_CELL_MAX before it reaches a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amtprov/err.h"
#include "amtprov/str.h"

#include "cli.h"

struct cli_table {
	size_t	  ncols;
	size_t	  nrows, cap;
	char	**cells;	/* (nrows + 1) * ncols: the header first */
	size_t	  width[CLI_COLS_MAX];
};

void
cli_fmt_clean(const char *s, size_t max, char *dst, size_t dstsz)
{
	size_t i, o = 0, n;
	unsigned char ch;

	if (dstsz == 0)
		return;
	if (s == NULL)
		s = "";
	n = strlen(s);
	for (i = 0; i < n && o + 1 < dstsz; i++) {
		if (i == max) {
			/* cut: room for "..." */
			while (o > 0 && o + 4 > dstsz)
				o--;
			if (o + 4 <= dstsz) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		ch = (unsigned char)s[i];
		dst[o++] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
	}
	dst[o] = '\0';
}

int
cli_table_new(size_t ncols, const char *const *header, struct cli_table **out)
{
	struct cli_table *t;
	int r;

	*out = NULL;
	if (ncols == 0 || ncols > CLI_COLS_MAX)
		return AMTP_E_INVAL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return AMTP_E_NOMEM;
	t->ncols = ncols;
	t->nrows = (size_t)-1;	/* the header row is row -1 */
	if ((r = cli_table_add(t, header)) != 0) {
		cli_table_free(t);
		return r;
	}
	*out = t;
	return 0;
}

int
cli_table_add(struct cli_table *t, const char *const *cells)
{
	char buf[CLI_CELL_MAX + 4];
	size_t i, base, need, ncap, len;
	char **nc;

	need = (t->nrows + 2) * t->ncols;
	if (need > t->cap) {
		ncap = t->cap == 0 ? 16 * t->ncols : t->cap * 2;
		while (ncap < need)
			ncap *= 2;
		if ((nc = reallocarray(t->cells, ncap, sizeof(*nc))) == NULL)
			return AMTP_E_NOMEM;
		t->cells = nc;
		t->cap = ncap;
	}
	base = (t->nrows + 1) * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		cli_fmt_clean(cells[i] != NULL ? cells[i] : "", CLI_CELL_MAX,
		    buf, sizeof(buf));
		if ((t->cells[base + i] = strdup(buf)) == NULL) {
			while (i-- > 0)
				free(t->cells[base + i]);
			return AMTP_E_NOMEM;
		}
		len = strlen(buf);
		if (len > t->width[i])
			t->width[i] = len;
	}
	t->nrows++;
	return 0;
}

size_t
cli_table_rows(const struct cli_table *t)
{
	return t->nrows;
}

int
cli_table_print(const struct cli_table *t, FILE *f)
{
	size_t r, i;
	const char *cell;

	for (r = 0; r <= t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			cell = t->cells[r * t->ncols + i];
			if (i + 1 == t->ncols)
				fprintf(f, "%s\n", cell);
			else
				fprintf(f, "%-*s  ", (int)t->width[i], cell);
		}
	}
	return ferror(f) ? AMTP_E_IO : 0;
}

void
cli_table_free(struct cli_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < (t->nrows + 1) * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void
cli_fmt_age(time_t now, int64_t then, char *dst, size_t dstsz)
{
	int64_t d;

	if (then <= 0 || then > (int64_t)now + 60) {
		snprintf(dst, dstsz, "-");
		return;
	}
	d = (int64_t)now - then;
	if (d < 0)
		d = 0;
	if (d < 60)
		snprintf(dst, dstsz, "%llds", (long long)d);
	else if (d < 3600)
		snprintf(dst, dstsz, "%lldm", (long long)(d / 60));
	else if (d < 86400)
		snprintf(dst, dstsz, "%lldh", (long long)(d / 3600));
	else
		snprintf(dst, dstsz, "%lldd", (long long)(d / 86400));
}

static void
duration(int64_t d, char *dst, size_t dstsz)
{
	if (d < 60)
		snprintf(dst, dstsz, "%llds", (long long)d);
	else if (d < 3600)
		snprintf(dst, dstsz, "%lldm%02llds", (long long)(d / 60),
		    (long long)(d % 60));
	else
		snprintf(dst, dstsz, "%lldh%02lldm", (long long)(d / 3600),
		    (long long)(d % 3600 / 60));
}

void
cli_fmt_duration(int64_t start, int64_t end, time_t now, char *dst,
    size_t dstsz)
{
	char tmp[32];

	if (start <= 0) {
		snprintf(dst, dstsz, "-");
		return;
	}
	if (end <= 0) {
		if ((int64_t)now < start) {
			snprintf(dst, dstsz, "+0s");
			return;
		}
		duration((int64_t)now - start, tmp, sizeof(tmp));
		snprintf(dst, dstsz, "+%s", tmp);
		return;
	}
	duration(end >= start ? end - start : 0, dst, dstsz);
}

void
cli_fmt_time(int64_t t, char *dst, size_t dstsz)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(dst, dstsz, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(dst, dstsz, "-");
}

void
cli_fmt_bar(size_t done, size_t total, size_t width, char *dst, size_t dstsz)
{
	size_t i, fill, o = 0;

	if (dstsz < 3 || width + 3 > dstsz) {
		if (dstsz > 0)
			dst[0] = '\0';
		return;
	}
	if (total == 0)
		fill = 0;
	else if (done >= total)
		fill = width;
	else
		fill = (size_t)((double)done * (double)width / (double)total);
	dst[o++] = '[';
	for (i = 0; i < width; i++)
		dst[o++] = i < fill ? '#' : '.';
	dst[o++] = ']';
	dst[o] = '\0';
}
