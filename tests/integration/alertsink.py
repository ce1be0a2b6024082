#!/usr/bin/env python3
"""alertsink.py DIR - an SMTP sink and an HTTP sink on loopback, for alerts.sh.

Writes DIR/smtp.port and DIR/http.port once both listen. Each e-mail received is saved as
DIR/mail-N.eml (the envelope as X-Envelope-From/X-Envelope-To lines, then the message);
each POST as DIR/hook-N.json, with its headers in DIR/hook-N.headers. While DIR/smtp_fail
or DIR/http_fail holds a number above 0, that sink refuses (SMTP 451 to MAIL, HTTP 500) and
counts it down. DIR/http_hang (any content): the HTTP sink answers only after 30 s, with a
503, and records nothing (the client has given up by then).
"""
import http.server
import os
import socketserver
import sys
import threading
import time

DIR = sys.argv[1]
lock = threading.Lock()


def take_failure(name):
    """True when the fail counter in DIR/name is above 0 (it is then decremented)."""
    path = os.path.join(DIR, name)
    with lock:
        try:
            n = int(open(path).read().strip() or "0")
        except (OSError, ValueError):
            return False
        if n <= 0:
            return False
        open(path, "w").write(str(n - 1))
        return True


def next_name(prefix, ext):
    with lock:
        n = 1
        while os.path.exists(os.path.join(DIR, "%s-%d.%s" % (prefix, n, ext))):
            n += 1
        path = os.path.join(DIR, "%s-%d.%s" % (prefix, n, ext))
        open(path + ".part", "w").close()
        return path


class Smtp(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.reply("220 alertsink ESMTP")
        sender, rcpts = None, []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            cmd = line[:4].upper()
            if cmd == "EHLO":
                self.wfile.write(b"250-alertsink\r\n250 8BITMIME\r\n")
            elif cmd == "HELO" or cmd == "NOOP":
                self.reply("250 ok")
            elif cmd == "MAIL":
                if take_failure("smtp_fail"):
                    self.reply("451 4.3.0 try again later")
                    continue
                sender, rcpts = line[10:].strip(), []
                self.reply("250 ok")
            elif cmd == "RCPT":
                rcpts.append(line[8:].strip())
                self.reply("250 ok")
            elif cmd == "DATA":
                self.reply("354 end with .")
                body = []
                while True:
                    l = self.rfile.readline()
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    if l.startswith(b".."):
                        l = l[1:]
                    body.append(l)
                path = next_name("mail", "eml")
                with open(path + ".part", "wb") as f:
                    f.write(("X-Envelope-From: %s\r\n" % sender).encode())
                    for r in rcpts:
                        f.write(("X-Envelope-To: %s\r\n" % r).encode())
                    f.write(b"".join(body))
                os.rename(path + ".part", path)
                self.reply("250 ok: queued")
            elif cmd == "RSET":
                sender, rcpts = None, []
                self.reply("250 ok")
            elif cmd == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class Hook(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if os.path.exists(os.path.join(DIR, "http_hang")):
            time.sleep(30)
            self.send_response(503)
            self.end_headers()
            return
        if take_failure("http_fail"):
            self.send_response(500)
            self.end_headers()
            return
        path = next_name("hook", "json")
        with open(path[:-5] + ".headers", "w") as f:
            f.write("".join("%s: %s\n" % (k, v) for k, v in self.headers.items()))
        with open(path + ".part", "wb") as f:
            f.write(body)
        os.rename(path + ".part", path)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    smtp = Server(("127.0.0.1", 0), Smtp)
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    hook.daemon_threads = True
    for srv in (smtp, hook):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    for name, srv in (("smtp.port", smtp), ("http.port", hook)):
        with open(os.path.join(DIR, name + ".part"), "w") as f:
            f.write(str(srv.server_address[1]))
        os.rename(os.path.join(DIR, name + ".part"), os.path.join(DIR, name))
    threading.Event().wait()


if __name__ == "__main__":
    main()
