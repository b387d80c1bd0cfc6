// The system's libcrypto (OpenSSL 3, Debian's libssl-dev) for SHA-256: its EVP digests use
// the CPU's SHA extensions or vector units, so checksums cost little even in debug builds.
#include <openssl/evp.h>
