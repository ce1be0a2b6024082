#!/usr/bin/python3
# sigv4check.py - the SigV4 verifier test fixture (shared/reference/env.md, appendix): an HTTP
# server that recomputes every request's signature with botocore and answers 200 "SIGV4 OK".
# Needs Debian's python3-botocore; started by s3-tmp.sh.
"""usage: /usr/bin/python3 sigv4check.py PORT ACCESSKEY SECRET  -> 200 'SIGV4 OK ...' or 403/400 with diagnosis"""
import sys, hashlib, re
from urllib.parse import quote, unquote
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from botocore.auth import SigV4Auth, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
PORT, AK, SK = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def handle_any(self):
        body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
        auth = self.headers.get('Authorization', '')
        m = re.match(r'AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$', auth)
        if not m: return self.reply(403, 'no/invalid SigV4 Authorization header: %r' % auth)
        ak, day, region, service, signed, sig = m.groups()
        if ak != AK: return self.reply(403, 'unknown access key %s' % ak)
        hdrs = {}
        for name in signed.split(';'):
            v = self.headers.get(name)
            if v is None: return self.reply(403, 'signed header %r not present in request' % name)
            hdrs[name] = v
        # AWS rule: canonical query = params decoded, re-encoded (RFC 3986 unreserved kept), sorted, 'k=' when no value
        path, _, q = self.path.partition('?')
        pairs = sorted((quote(unquote(k), safe='-_.~'), quote(unquote(v), safe='-_.~'))
                       for k, _, v in (x.partition('=') for x in q.split('&') if x))
        canon_q = '&'.join('%s=%s' % kv for kv in pairs)
        req = AWSRequest(method=self.command, url='http://%s%s%s' % (self.headers['Host'], path, '?' + canon_q if canon_q else ''), headers=hdrs, data=body)
        req.context['timestamp'] = self.headers['X-Amz-Date']
        cls = S3SigV4Auth if service == 's3' else SigV4Auth
        a = cls(Credentials(AK, SK), service, region)
        creq = a.canonical_request(req)
        want = a.signature(a.string_to_sign(req, creq), req)
        if want != sig:  # diagnose what the client signed instead
            for label, cq in (('raw query as sent', q), ('query as sent, not sorted', '&'.join('%s=%s' % (quote(unquote(k), safe='-_.~'), quote(unquote(v), safe='-_.~')) for k, _, v in (x.partition('=') for x in q.split('&') if x)))):
                c2 = creq.split('\n'); c2[2] = cq; c2 = '\n'.join(c2)
                if a.signature(a.string_to_sign(req, c2), req) == sig:
                    return self.reply(403, 'SignatureDoesNotMatch: client signed the %s (%r), AWS expects %r' % (label, cq, canon_q))
        sha = self.headers.get('x-amz-content-sha256')
        if sha and sha != 'UNSIGNED-PAYLOAD' and sha != hashlib.sha256(body).hexdigest():
            return self.reply(400, 'XAmzContentSHA256Mismatch')
        if want != sig: return self.reply(403, 'SignatureDoesNotMatch\n--- canonical request (server) ---\n' + creq)
        self.reply(200, 'SIGV4 OK %s %s %s signed=%s' % (service, self.command, self.path, signed))
    def reply(self, code, text):
        b = (text + '\n').encode(); self.send_response(code)
        self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)
    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any
ThreadingHTTPServer(('127.0.0.1', PORT), H).serve_forever()
