//go:build cgo && linux && !noopenssl

// The OpenSSL client core: see core.h. Everything here runs inside one
// cgo call at a time per connection; nothing blocks (memory BIOs only).

#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include "core.h"

// The random of a HelloRetryRequest (RFC 8446 §4.1.3).
static const unsigned char hrr_random[32] = {
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

// server_hello_has_key_share reports whether a ServerHello (the whole
// handshake message) carries a key_share extension: a fresh key exchange,
// (EC)DHE or a KEM's ciphertext alike; none in TLS 1.2 and in a psk_ke
// resumption.
static int server_hello_has_key_share(const unsigned char *p, size_t len) {
	size_t i = 4 + 2 + 32, end, n;
	if (i + 1 > len) {
		return 0;
	}
	i += 1 + p[i]; // session id
	i += 2 + 1;    // cipher suite, compression
	if (i + 2 > len) {
		return 0;
	}
	end = i + 2 + ((size_t)p[i] << 8 | p[i + 1]);
	if (end > len) {
		return 0;
	}
	for (i += 2; i + 4 <= end; i += 4 + n) {
		unsigned type = (unsigned)p[i] << 8 | p[i + 1];
		n = (size_t)p[i + 2] << 8 | p[i + 3];
		if (type == TLSEXT_TYPE_key_share) {
			return 1;
		}
	}
	return 0;
}

static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl, void *arg) {
	mb_conn *k = SSL_get_app_data(ssl);
	const unsigned char *p = buf;
	(void)version;
	(void)arg;
	if (k == NULL) {
		return;
	}
	if (content_type == SSL3_RT_ALERT && len >= 2) {
		if (write_p) {
			k->alert_sent = p[1];
		} else {
			k->alert_recv = p[1];
		}
	} else if (content_type == SSL3_RT_HANDSHAKE && !write_p && len >= 38 && p[0] == SSL3_MT_SERVER_HELLO) {
		if (memcmp(p + 6, hrr_random, sizeof hrr_random) == 0) {
			k->hrr = 1;
		} else {
			k->key_share = server_hello_has_key_share(p, len);
		}
	}
}

// cert_cb runs when the server sends a CertificateRequest: it notes how
// many CA names it carried and presents the identity Go chose.
static int cert_cb(SSL *ssl, void *arg) {
	mb_conn *k = SSL_get_app_data(ssl);
	const STACK_OF(X509_NAME) *names;
	mb_ident *id;
	(void)arg;
	if (k == NULL) {
		return 0;
	}
	names = SSL_get0_peer_CA_list(ssl);
	k->ca_names = names != NULL ? sk_X509_NAME_num(names) : 0;
	if (!k->c->mutual || k->c->nids == 0 || k->identity < 0 || k->identity >= k->c->nids) {
		return 1; // an empty Certificate
	}
	id = &k->c->ids[k->identity];
	if (!SSL_use_cert_and_key(ssl, id->leaf, id->key, id->chain, 1)) {
		return 0;
	}
	k->presented = k->identity;
	return 1;
}

// verify_cb is OpenSSL's own chain verification, timed.
static int verify_cb(X509_STORE_CTX *x, void *arg) {
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	mb_conn *k = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	struct timespec a, b;
	int r;
	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &a);
	r = X509_verify_cert(x);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (k != NULL) {
		k->verify_ns = (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
	}
	return r;
}

// new_session_cb keeps the newest session of the connection.
static int new_session_cb(SSL *ssl, SSL_SESSION *s) {
	mb_conn *k = SSL_get_app_data(ssl);
	if (k == NULL) {
		return 0;
	}
	if (k->session != NULL) {
		SSL_SESSION_free(k->session);
	}
	k->session = s;
	k->tickets++;
	return 1;
}

static void set_err(char *err, int errlen, const char *what) {
	unsigned long e = ERR_peek_last_error();
	char buf[200];
	if (err == NULL || errlen <= 0) {
		return;
	}
	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof buf);
		snprintf(err, errlen, "%s: %s", what, buf);
	} else {
		snprintf(err, errlen, "%s", what);
	}
}

mb_ctx *mb_ctx_new(int version, const char *ciphers, const char *suites13, const char *groups,
	const char *sigalgs, int verify, int session_ids, int psk_ke, int mutual, char *err, int errlen) {
	mb_ctx *c;
	SSL_CTX *ctx;
	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		set_err(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	if (version != 0 && (!SSL_CTX_set_min_proto_version(ctx, version) || !SSL_CTX_set_max_proto_version(ctx, version))) {
		set_err(err, errlen, "setting the TLS version");
		goto fail;
	}
	if (ciphers != NULL && *ciphers && !SSL_CTX_set_cipher_list(ctx, ciphers)) {
		set_err(err, errlen, "setting the TLS 1.2 cipher suite");
		goto fail;
	}
	if (suites13 != NULL && *suites13 && !SSL_CTX_set_ciphersuites(ctx, suites13)) {
		set_err(err, errlen, "setting the TLS 1.3 cipher suite");
		goto fail;
	}
	if (groups != NULL && *groups && !SSL_CTX_set1_groups_list(ctx, groups)) {
		set_err(err, errlen, "setting the groups");
		goto fail;
	}
	if (sigalgs != NULL && *sigalgs && !SSL_CTX_set1_sigalgs_list(ctx, sigalgs)) {
		set_err(err, errlen, "setting the signature algorithms");
		goto fail;
	}
	SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	if (verify) {
		SSL_CTX_set_cert_verify_callback(ctx, verify_cb, NULL);
	}
	SSL_CTX_set_cert_cb(ctx, cert_cb, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
	SSL_CTX_set_msg_callback(ctx, msg_cb);
	if (session_ids) {
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	}
	if (psk_ke) {
		SSL_CTX_set_options(ctx, SSL_OP_ALLOW_NO_DHE_KEX);
	}
	c = OPENSSL_zalloc(sizeof *c);
	if (c == NULL) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	c->ctx = ctx;
	c->mutual = mutual;
	return c;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int mb_ctx_add_root(mb_ctx *c, const unsigned char *der, int len) {
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, len);
	int ok;
	if (x == NULL) {
		return 0;
	}
	ok = X509_STORE_add_cert(SSL_CTX_get_cert_store(c->ctx), x);
	X509_free(x);
	return ok;
}

int mb_ctx_set_alpn(mb_ctx *c, const unsigned char *protos, int len) {
	return SSL_CTX_set_alpn_protos(c->ctx, protos, (unsigned int)len) == 0; // 0 is success there
}

int mb_ctx_default_roots(mb_ctx *c) { return SSL_CTX_set_default_verify_paths(c->ctx); }

int mb_ctx_add_identity(mb_ctx *c, const unsigned char *leaf, int leaflen, const unsigned char *key, int keylen) {
	const unsigned char *p = leaf, *q = key;
	mb_ident *ids, *id;
	X509 *x = d2i_X509(NULL, &p, leaflen);
	EVP_PKEY *k;
	if (x == NULL) {
		return -1;
	}
	k = d2i_AutoPrivateKey(NULL, &q, keylen);
	if (k == NULL) {
		X509_free(x);
		return -1;
	}
	ids = OPENSSL_realloc(c->ids, (c->nids + 1) * sizeof *ids);
	if (ids == NULL) {
		X509_free(x);
		EVP_PKEY_free(k);
		return -1;
	}
	c->ids = ids;
	id = &ids[c->nids];
	id->leaf = x;
	id->key = k;
	id->chain = sk_X509_new_null();
	return c->nids++;
}

int mb_ctx_add_chain(mb_ctx *c, int id, const unsigned char *der, int len) {
	const unsigned char *p = der;
	X509 *x;
	if (id < 0 || id >= c->nids) {
		return 0;
	}
	x = d2i_X509(NULL, &p, len);
	if (x == NULL) {
		return 0;
	}
	if (!sk_X509_push(c->ids[id].chain, x)) {
		X509_free(x);
		return 0;
	}
	return 1;
}

void mb_ctx_free(mb_ctx *c) {
	int i;
	if (c == NULL) {
		return;
	}
	for (i = 0; i < c->nids; i++) {
		X509_free(c->ids[i].leaf);
		EVP_PKEY_free(c->ids[i].key);
		sk_X509_pop_free(c->ids[i].chain, X509_free);
	}
	OPENSSL_free(c->ids);
	SSL_CTX_free(c->ctx);
	OPENSSL_free(c);
}

mb_conn *mb_conn_new(mb_ctx *c) {
	mb_conn *k = OPENSSL_zalloc(sizeof *k);
	if (k != NULL) {
		k->c = c;
	}
	return k;
}

int mb_conn_start(mb_conn *k, const char *server_name, SSL_SESSION *offer) {
	unsigned char ip[16];
	ERR_clear_error();
	k->ssl = SSL_new(k->c->ctx);
	if (k->ssl == NULL) {
		set_err(k->err, sizeof k->err, "SSL_new");
		return 0;
	}
	k->rbio = BIO_new(BIO_s_mem());
	k->wbio = BIO_new(BIO_s_mem());
	if (k->rbio == NULL || k->wbio == NULL) {
		BIO_free(k->rbio);
		BIO_free(k->wbio);
		SSL_free(k->ssl);
		k->ssl = NULL;
		set_err(k->err, sizeof k->err, "BIO_new");
		return 0;
	}
	// An empty read BIO means "more to come", not end of file.
	BIO_set_mem_eof_return(k->rbio, -1);
	SSL_set_bio(k->ssl, k->rbio, k->wbio);
	SSL_set_app_data(k->ssl, k);
	SSL_set_connect_state(k->ssl);
	k->presented = -1;
	k->ca_names = -1;
	k->hrr = 0;
	k->key_share = 0;
	k->alert_recv = -1;
	k->alert_sent = -1;
	k->tickets = 0;
	k->verify_ns = 0;
	k->ssl_error = 0;
	k->verify_result = X509_V_OK;
	k->err[0] = 0;
	if (server_name != NULL && *server_name) {
		int is_ip = inet_pton(AF_INET, server_name, ip) == 1 || inet_pton(AF_INET6, server_name, ip) == 1;
		if (!is_ip && !SSL_set_tlsext_host_name(k->ssl, server_name)) {
			set_err(k->err, sizeof k->err, "setting the server name");
			return 0;
		}
		if (SSL_get_verify_mode(k->ssl) & SSL_VERIFY_PEER) {
			int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(k->ssl), server_name)
			               : SSL_set1_host(k->ssl, server_name);
			if (!ok) {
				set_err(k->err, sizeof k->err, "setting the name to verify");
				return 0;
			}
		}
	}
	if (offer != NULL) {
		// A copy is offered: OpenSSL marks a session it has used in a
		// connection not resumable in some paths (a TLS 1.3 resumption
		// that brings no new ticket, as from Node, left the session
		// unusable for the next one), while a client that got no new
		// ticket resumes with the one it has, as crypto/tls does.
		SSL_SESSION *copy = SSL_SESSION_dup(offer);
		int ok = copy != NULL && SSL_set_session(k->ssl, copy);
		SSL_SESSION_free(copy);
		if (!ok) {
			set_err(k->err, sizeof k->err, "SSL_set_session");
			return 0;
		}
	}
	return 1;
}

static int drain(mb_conn *k, unsigned char *out, int outcap) {
	int n;
	if (outcap <= 0 || BIO_ctrl_pending(k->wbio) == 0) {
		return 0;
	}
	n = BIO_read(k->wbio, out, outcap);
	return n > 0 ? n : 0;
}

int mb_drain(mb_conn *k, unsigned char *out, int outcap) { return drain(k, out, outcap); }

int mb_step(mb_conn *k, int op, const unsigned char *in, int inlen, unsigned char *buf, int buflen,
	unsigned char *out, int outcap) {
	size_t got = 0;
	int r = 0, e;
	ERR_clear_error();
	k->n = 0;
	k->outn = 0;
	if (inlen > 0 && BIO_write(k->rbio, in, inlen) != inlen) {
		set_err(k->err, sizeof k->err, "buffering the server's bytes");
		ERR_clear_error();
		return MB_ERROR;
	}
	switch (op) {
	case MB_OP_HANDSHAKE:
		r = SSL_do_handshake(k->ssl);
		break;
	case MB_OP_READ:
		r = SSL_read_ex(k->ssl, buf, (size_t)buflen, &got);
		break;
	case MB_OP_WRITE:
		r = SSL_write_ex(k->ssl, buf, (size_t)buflen, &got);
		break;
	case MB_OP_EARLY:
		r = SSL_write_early_data(k->ssl, buf, (size_t)buflen, &got);
		break;
	case MB_OP_SHUTDOWN:
		// 0: close_notify sent, the server's not awaited; 1: both.
		r = SSL_shutdown(k->ssl) >= 0 ? 1 : -1;
		break;
	}
	k->outn = drain(k, out, outcap);
	if (r == 1) {
		k->n = (int)got;
		return MB_DONE;
	}
	e = SSL_get_error(k->ssl, r);
	k->ssl_error = e;
	switch (e) {
	case SSL_ERROR_WANT_READ:
		return MB_WANT_READ;
	case SSL_ERROR_ZERO_RETURN:
		return MB_CLOSED;
	}
	k->verify_result = SSL_get_verify_result(k->ssl);
	set_err(k->err, sizeof k->err, "OpenSSL");
	// Nothing is left in this thread's error queue for the next OpenSSL
	// caller on it (goroutines move between threads).
	ERR_clear_error();
	return MB_ERROR;
}

void mb_conn_end(mb_conn *k) {
	if (k->ssl != NULL) {
		// The engine closes the socket without a close_notify, as its Go
		// client does; marked shut down, the SSL's session stays
		// resumable (SSL_free would otherwise take it for a bad one).
		SSL_set_shutdown(k->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		SSL_free(k->ssl); // and its BIOs
		k->ssl = NULL;
		k->rbio = NULL;
		k->wbio = NULL;
	}
}

void mb_conn_free(mb_conn *k) {
	if (k == NULL) {
		return;
	}
	mb_conn_end(k);
	if (k->session != NULL) {
		SSL_SESSION_free(k->session);
	}
	OPENSSL_free(k);
}

void mb_conn_info(mb_conn *k, mb_info *i) {
	const SSL_CIPHER *c = SSL_get_current_cipher(k->ssl);
	X509 *peer = SSL_get0_peer_certificate(k->ssl);
	memset(i, 0, sizeof *i);
	i->version = SSL_version(k->ssl);
	i->suite = c != NULL ? SSL_CIPHER_get_protocol_id(c) : 0;
	i->group_nid = SSL_get_negotiated_group(k->ssl);
	i->resumed = SSL_session_reused(k->ssl);
	if (peer != NULL) {
		EVP_PKEY *pk = X509_get0_pubkey(peer);
		if (pk != NULL) {
			i->peer_key_type = EVP_PKEY_get_base_id(pk);
			i->peer_key_bits = EVP_PKEY_get_bits(pk);
		}
	}
	i->early_status = SSL_get_early_data_status(k->ssl);
	i->peer_tmp_key = k->key_share;
	{
		const unsigned char *a = NULL;
		unsigned int n = 0;
		SSL_get0_alpn_selected(k->ssl, &a, &n);
		if (a != NULL && n <= sizeof i->alpn) {
			memcpy(i->alpn, a, n);
			i->alpn_len = (int)n;
		}
	}
}

// mb_peer_leaf writes the server's certificate (DER) into out: its
// length, 0 when there is none, or -length needed when cap is too small.
int mb_peer_leaf(mb_conn *k, unsigned char *out, int cap) {
	X509 *peer = SSL_get0_peer_certificate(k->ssl);
	unsigned char *p = out;
	int n;
	if (peer == NULL) {
		return 0;
	}
	n = i2d_X509(peer, NULL);
	if (n <= 0) {
		return 0;
	}
	if (n > cap) {
		return -n;
	}
	return i2d_X509(peer, &p);
}

SSL_SESSION *mb_session_take(mb_conn *k) {
	SSL_SESSION *s = k->session;
	k->session = NULL;
	if (s == NULL && k->ssl != NULL && SSL_version(k->ssl) <= TLS1_2_VERSION && SSL_is_init_finished(k->ssl)) {
		// TLS 1.2: the connection's session as it ended. A resumption
		// by ticket may have brought a new ticket into a copy of the
		// session offered, which no callback reports.
		SSL_SESSION *cur = SSL_get0_session(k->ssl);
		if (cur != NULL && SSL_SESSION_is_resumable(cur)) {
			s = SSL_get1_session(k->ssl);
		}
	}
	return s;
}

unsigned int mb_session_max_early(SSL_SESSION *s) { return (unsigned int)SSL_SESSION_get_max_early_data(s); }
void mb_session_free(SSL_SESSION *s) { SSL_SESSION_free(s); }
void mb_session_ref(SSL_SESSION *s) { SSL_SESSION_up_ref(s); }
const char *mb_version(void) { return OpenSSL_version(OPENSSL_VERSION); }
unsigned long mb_version_num(void) { return OpenSSL_version_num(); }
