# Dependencies: Debian packages only, found with pkg-config (scripts/deps.sh
# installs them). Nothing vendored, nothing downloaded.
find_package(PkgConfig REQUIRED)
pkg_check_modules(OPENSSL REQUIRED IMPORTED_TARGET openssl>=3.0)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
pkg_check_modules(XML2 REQUIRED IMPORTED_TARGET libxml-2.0)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(SQLITE REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq)
pkg_check_modules(LDAP REQUIRED IMPORTED_TARGET ldap)
pkg_check_modules(INIH REQUIRED IMPORTED_TARGET inih)
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
pkg_check_modules(GNUTLS REQUIRED IMPORTED_TARGET gnutls)
set(AMTP_DEP_TARGETS
	PkgConfig::OPENSSL PkgConfig::CURL PkgConfig::MHD PkgConfig::XML2
	PkgConfig::JANSSON PkgConfig::SQLITE PkgConfig::PQ PkgConfig::LDAP
	PkgConfig::INIH PkgConfig::GNUTLS)
