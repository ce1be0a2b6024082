#!/usr/bin/python3
# s3flaky.py - a scripted misbehaving S3 endpoint for norc_aws's retries (s3sign.sh): no
# signature check; every request is appended to LOG as "METHOD PATH RANGE IF-MATCH".
#   usage: s3flaky.py PORT LOG   (PORT 0: any free port; the port is printed on stdout)
#   GET /b/slowdown   1st: 503 SlowDown, then 200 "ok after slowdown"
#   GET /b/drop       1st: 200 with half the body, connection cut; a retry with Range and
#                     If-Match gets 206 with the rest (the body is BODY below)
#   GET /b/drop-full  the same cut, but the retry gets the whole body again with 200
#   GET /b/denied     403 AccessDenied every time (never retried)
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, LOG = int(sys.argv[1]), sys.argv[2]
BODY = b''.join(b'%06d flaky body line\n' % i for i in range(20000))  # 460 kB
ETAG = '"0123456789abcdef"'
seen = {}


class H(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def reply(self, code, body, extra=()):
        self.send_response(code)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('ETag', ETAG)
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        rng, im = self.headers.get('Range', '-'), self.headers.get('If-Match', '-')
        with open(LOG, 'a') as f:
            f.write('%s %s %s %s\n' % (self.command, self.path, rng, im))
        n = seen[self.path] = seen.get(self.path, 0) + 1
        if self.path == '/b/slowdown':
            if n == 1:
                return self.reply(503, b'<Error><Code>SlowDown</Code><Message>Please reduce '
                                  b'your request rate.</Message></Error>')
            return self.reply(200, b'ok after slowdown\n')
        if self.path in ('/b/drop', '/b/drop-full'):
            if n == 1:
                self.send_response(200)
                self.send_header('Content-Length', str(len(BODY)))
                self.send_header('ETag', ETAG)
                self.end_headers()
                self.wfile.write(BODY[:len(BODY) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            if self.path == '/b/drop' and rng.startswith('bytes=') and im == ETAG:
                start = int(rng[6:].rstrip('-'))
                return self.reply(206, BODY[start:], [('Content-Range', 'bytes %d-%d/%d' % (
                    start, len(BODY) - 1, len(BODY)))])
            return self.reply(200, BODY)
        if self.path == '/b/body':
            return self.reply(200, BODY)
        return self.reply(403, b'<Error><Code>AccessDenied</Code><Message>Access '
                          b'Denied</Message></Error>')


server = ThreadingHTTPServer(('127.0.0.1', PORT), H)
print(server.server_address[1], flush=True)
server.serve_forever()
