// mtlsbench's node target: a TLS server on Node's own tls module (and so
// on the OpenSSL that Node bundles: 3.5 from Node 24 on). mtlsbench
// embeds this file, writes it and config.json into the target's temporary
// directory and runs `node server.js config.json` (targets/managed/node.go,
// which says what each setting means).
//
// Its record, for mtlsbench's cross-check, is a log of one line per event,
// tab-separated, each with the accept time of its connection in Unix
// milliseconds and the server name the client sent:
//
//   H  accept  sni  version  cipher  resumed(0|1)  verify(SUCCESS|NONE)
//   F  accept  sni  verify(0|1)  code  message        a refused handshake
//   R  accept  sni                                    an HTTP request answered 200
//
// One process, one event loop: a plain `node server.js`. (Not
// node:cluster: workers would need one set of ticket keys to resume each
// other's sessions, and a Node given its ticket keys sends no new ticket
// on a resumed TLS 1.3 connection, which a client waiting for the
// server's first record after the handshake would wait for in vain.)
'use strict';

const fs = require('node:fs');
const tls = require('node:tls');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
serve();

function serve() {
  // Each line is written at once, as nginx writes its log: a line is in
  // the file before its connection closes, which is what mtlsbench's count
  // waits for (a stream's write would land later, from libuv's pool).
  const log = fs.openSync(cfg.log, 'a');
  const line = (fields) => fs.writeSync(log, fields.join('\t') + '\n');
  const clean = (s) => String(s || '').replace(/[\t\r\n]+/g, ' ');

  // tls.createServer takes TLS 1.2 ciphers and TLS 1.3 suites in one list,
  // and turns a version off when the list has none of its suites: each
  // half is the case's, or Node's default.
  const defaults = tls.DEFAULT_CIPHERS.split(':');
  const tls13 = cfg.tls13Suites || defaults.filter((c) => c.startsWith('TLS_')).join(':');
  const tls12 = cfg.tls12Ciphers || defaults.filter((c) => !c.startsWith('TLS_')).join(':');

  const options = {
    cert: fs.readFileSync(cfg.cert),
    key: fs.readFileSync(cfg.key),
    minVersion: cfg.minVersion,
    maxVersion: cfg.maxVersion,
    ciphers: [tls13, tls12].filter((s) => s).join(':'),
    handshakeTimeout: cfg.handshakeTimeoutMs,
    // The client certificate is checked here, after the handshake, so
    // that every refusal is logged with its reason (Node's own
    // rejectUnauthorized drops the connection without an event).
    requestCert: cfg.requestCert,
    rejectUnauthorized: false,
    secureOptions: cfg.secureOptions,
  };
  if (cfg.ca) options.ca = fs.readFileSync(cfg.ca);
  if (cfg.crl) options.crl = fs.readFileSync(cfg.crl);
  if (cfg.groups) options.ecdhCurve = cfg.groups;

  const server = tls.createServer(options);
  if (cfg.sessionCache) {
    // Resumption by session ID (tickets are off): Node keeps no session
    // cache of its own, it hands sessions to these events. The oldest
    // go first past sessionCacheSize.
    const cache = new Map();
    server.on('newSession', (id, data, done) => {
      cache.set(id.toString('hex'), data);
      if (cache.size > cfg.sessionCacheSize) cache.delete(cache.keys().next().value);
      done();
    });
    server.on('resumeSession', (id, done) => done(null, cache.get(id.toString('hex')) || null));
  }
  // The raw socket is the TLS socket's _parent: its accept time.
  server.on('connection', (raw) => { raw.mtlsbenchAccept = Date.now(); });
  const acceptOf = (s) => (s && s._parent && s._parent.mtlsbenchAccept) || Date.now();

  server.on('tlsClientError', (err, s) => {
    const verify = /peer did not return a certificate|certificate verify failed/.test(err.message) ? 1 : 0;
    line(['F', acceptOf(s), clean(s && s.servername), verify, clean(err.code), clean(err.message)]);
    if (s) s.destroy();
  });

  server.on('secureConnection', (s) => {
    const accept = acceptOf(s);
    const sni = clean(s.servername);
    s.on('error', () => {});
    if (cfg.requestCert && !s.authorized) {
      line(['F', accept, sni, 1, clean(s.authorizationError), 'client certificate refused: ' + clean(s.authorizationError)]);
      refuse(s);
      return;
    }
    const cipher = s.getCipher() || {};
    line(['H', accept, sni, s.getProtocol(), cipher.standardName || cipher.name || '', s.isSessionReused() ? 1 : 0,
      cfg.requestCert ? 'SUCCESS' : 'NONE']);
    if (cfg.mode === 'http') {
      answer(s, () => line(['R', accept, sni]));
    } else {
      // Handshake mode: read until the client closes.
      s.resume();
      s.on('end', () => s.end());
      if (s.isSessionReused() && s.getProtocol() === 'TLSv1.3') {
        // Node sends no new session ticket on a resumed TLS 1.3
        // connection, and a client waits for the server's first record
        // after the handshake to know it was accepted: close_notify is
        // that record, as it is for a server with tickets off.
        s.end();
      }
    }
  });

  server.on('error', (err) => {
    // "address already in use" tells mtlsbench to try another port.
    console.error(`node target: ${err.message}${err.code === 'EADDRINUSE' ? ' (address already in use)' : ''}`);
    process.exit(1);
  });
  server.listen(cfg.port, cfg.host);

  const stop = () => {
    server.close();
    fs.closeSync(log);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

const okResponse = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n';
const refusedBody = 'The SSL certificate error\n';
const refusedResponse = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: ' +
  refusedBody.length + '\r\nConnection: close\r\n\r\n' + refusedBody;

// refuse ends a connection whose client certificate did not verify: in
// handshake mode at once, in HTTP mode with a 400 to its first request (as
// nginx does).
function refuse(s) {
  if (cfg.mode !== 'http') {
    s.destroy();
    return;
  }
  let buf = '';
  s.setEncoding('latin1');
  s.on('data', (d) => {
    buf += d;
    if (buf.includes('\r\n\r\n')) {
      s.end(refusedResponse);
    }
  });
  s.on('end', () => s.end());
}

// answer serves HTTP/1.1 on s: each request (a head without a body, as
// mtlsbench sends) is answered 200 "ok\n" and counted; the connection
// stays open until the client closes it, or after a request that asked to
// close.
function answer(s, counted) {
  let buf = '';
  s.setEncoding('latin1');
  s.on('data', (d) => {
    buf += d;
    let end;
    while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
      const head = buf.slice(0, end);
      buf = buf.slice(end + 4);
      counted();
      if (/\r\nconnection:\s*close/i.test(head)) {
        s.end(okResponse);
        return;
      }
      s.write(okResponse);
    }
  });
  s.on('end', () => s.end());
}
