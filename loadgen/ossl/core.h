// The OpenSSL client core of mtlsbench's engine: one SSL per connection
// between two memory BIOs. It never touches a socket: Go reads and writes
// the connection and moves the bytes (see ossl.go).
#ifndef MTLSBENCH_OSSL_CORE_H
#define MTLSBENCH_OSSL_CORE_H

#include <openssl/ssl.h>

// Results of mb_step.
enum {
	MB_DONE = 0,      // the operation completed
	MB_WANT_READ = 1, // it needs more bytes from the server
	MB_ERROR = 2,     // it failed: see the conn's error fields
	MB_CLOSED = 3     // the server closed the TLS connection (close_notify)
};

// Operations of mb_step.
enum {
	MB_OP_HANDSHAKE = 0, // SSL_do_handshake
	MB_OP_READ = 1,      // SSL_read into the given buffer (processes tickets)
	MB_OP_WRITE = 2,     // SSL_write of the given buffer
	MB_OP_EARLY = 3,     // SSL_write_early_data of the given buffer
	MB_OP_SHUTDOWN = 4   // SSL_shutdown: send close_notify
};

typedef struct {
	X509 *leaf;
	EVP_PKEY *key;
	STACK_OF(X509) *chain;
} mb_ident;

typedef struct {
	SSL_CTX *ctx;
	mb_ident *ids;
	int nids;
	int mutual;
} mb_ctx;

typedef struct {
	SSL *ssl;
	BIO *rbio, *wbio;
	mb_ctx *c;
	// Set by Go before the handshake.
	int identity;
	// What the handshake did.
	int presented;       // the identity presented, -1 when none was asked for
	int ca_names;        // CA names in the CertificateRequest, -1 when none came
	int hrr;             // a HelloRetryRequest was received
	int key_share;       // the (final) ServerHello carried a key share
	int alert_recv;      // the last alert received, -1 when none
	int alert_sent;      // the last alert sent, -1 when none
	int tickets;         // sessions stored since the connection began
	long long verify_ns; // time the server chain's verification took
	SSL_SESSION *session; // the newest session received (owned), or NULL
	// The last step's bytes read or written (n) and drained (outn).
	int n, outn;
	// The failure of the last step.
	int ssl_error;
	long verify_result;
	char err[256];
} mb_conn;

mb_ctx *mb_ctx_new(int version, const char *ciphers, const char *suites13, const char *groups,
	const char *sigalgs, int verify, int session_ids, int psk_ke, int mutual, char *err, int errlen);
int mb_ctx_add_root(mb_ctx *c, const unsigned char *der, int len);
int mb_ctx_set_alpn(mb_ctx *c, const unsigned char *protos, int len);
int mb_ctx_default_roots(mb_ctx *c);
int mb_ctx_add_identity(mb_ctx *c, const unsigned char *leaf, int leaflen, const unsigned char *key, int keylen);
int mb_ctx_add_chain(mb_ctx *c, int id, const unsigned char *der, int len);
void mb_ctx_free(mb_ctx *c);

mb_conn *mb_conn_new(mb_ctx *c);
int mb_conn_start(mb_conn *k, const char *server_name, SSL_SESSION *offer);
int mb_step(mb_conn *k, int op, const unsigned char *in, int inlen, unsigned char *buf, int buflen,
	unsigned char *out, int outcap);
int mb_drain(mb_conn *k, unsigned char *out, int outcap);
void mb_conn_end(mb_conn *k);
void mb_conn_free(mb_conn *k);

typedef struct {
	int version;
	int suite;
	int group_nid;
	int resumed;
	int peer_key_type; // EVP_PKEY base id of the server's key, 0 when unknown
	int peer_key_bits;
	int early_status;  // SSL_EARLY_DATA_NOT_SENT / REJECTED / ACCEPTED
	int peer_tmp_key;  // the server sent a key share (a fresh (EC)DHE or KEM)
	unsigned char alpn[32]; // the application protocol selected (ALPN)
	int alpn_len;
} mb_info;

void mb_conn_info(mb_conn *k, mb_info *i);
int mb_peer_leaf(mb_conn *k, unsigned char *out, int cap);
unsigned int mb_session_max_early(SSL_SESSION *s);
void mb_session_free(SSL_SESSION *s);
SSL_SESSION *mb_session_take(mb_conn *k);
void mb_session_ref(SSL_SESSION *s);
const char *mb_version(void);
unsigned long mb_version_num(void);

#endif
