#!/usr/bin/env python3
"""Opens COUNT TLS connections to HOST:PORT, makes one keep-alive request on each, reads its
response, and keeps them all open and idle: prints "ready", then waits for stdin to close.
For benchmarks/idle/tls.sh; certificates are not verified (a throwaway one is served)."""
import socket
import ssl
import sys

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
held = []
for i in range(count):
    raw = socket.create_connection((host, port))
    conn = context.wrap_socket(raw, server_hostname="bench.example")
    conn.sendall(b"GET / HTTP/1.1\r\nHost: bench.example\r\n\r\n")
    response = b""
    while b"\r\n\r\n" not in response or not response.endswith(b"Hello, World!"):
        chunk = conn.recv(4096)
        if not chunk:
            sys.exit(f"connection {i}: closed before the response ended")
        response += chunk
    if not response.startswith(b"HTTP/1.1 200"):
        sys.exit(f"connection {i}: {response[:40]!r}")
    held.append(conn)
print("ready", flush=True)
sys.stdin.read()
