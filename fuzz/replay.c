/*
 * amtprov - replay.c: feeds every file of a corpus folder to a fuzz target's
 * LLVMFuzzerTestOneInput(), so that each corpus runs as a regression test in
 * every normal build (under the sanitizers in the ASan build).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	FILE *f;
	struct stat st;
	uint8_t *d;
	size_t n;

	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return 0;
	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	if ((d = malloc((size_t)st.st_size + 1)) == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(d, 1, (size_t)st.st_size, f);
	fclose(f);
	LLVMFuzzerTestOneInput(d, n);
	free(d);
	return 1;
}

int
main(int argc, char **argv)
{
	struct dirent **ents;
	char path[4096];
	int i, n, count = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
		return 2;
	}
	if ((n = scandir(argv[1], &ents, NULL, alphasort)) == -1) {
		perror(argv[1]);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s", argv[1],
		    ents[i]->d_name) < (int)sizeof(path)) {
			if (run_file(path) < 0)
				return 1;
			count++;
		}
		free(ents[i]);
	}
	free(ents);
	if (count == 0) {
		fprintf(stderr, "%s: empty corpus\n", argv[1]);
		return 1;
	}
	printf("replayed %d inputs from %s\n", count, argv[1]);
	return 0;
}
