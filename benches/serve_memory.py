"""Memory of `semaforo serve` under a burst: VmRSS (from /proc/<pid>/status)
idle, at its peak while N clients POST one body at once, and 5 s after.
Traffic goes only to 127.0.0.1; every client has a 120 s socket timeout.

    cargo build --release --example generate_balances --bin semaforo
    target/release/examples/generate_balances --entities 545 --periods 1 --output /tmp/body.csv  # 9.5 MB
    python3 benches/serve_memory.py target/release/semaforo rules/cooperativas /tmp/body.csv 100 [serve flags]
    RETRY=1 python3 benches/serve_memory.py ...   # clients resend after a 503 until served
"""
import re, socket, subprocess, sys, threading, time

binary, pack, body_path, clients = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
extra = sys.argv[5:]
body = open(body_path, "rb").read()
server = subprocess.Popen([binary, "serve", "--pack", pack, "--addr", "127.0.0.1:0", *extra],
                          stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
addr = None
for line in server.stderr:
    m = re.match(r"semaforo: listening on http://(\S+)", line)
    if m:
        addr = m.group(1)
        break
threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
host, port = addr.split(":")

def rss():
    for line in open(f"/proc/{server.pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
time.sleep(2)
idle = rss()
peak = idle
sampling = True
def sample():
    global peak
    while sampling:
        peak = max(peak, rss())
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()

statuses = {}
lock = threading.Lock()
import os
RETRY = os.environ.get("RETRY") == "1"
def post():
    while True:
        status = post_once()
        if not (RETRY and status == "503"):
            break
        time.sleep(1)
    with lock:
        statuses[status] = statuses.get(status, 0) + 1

def post_once():
    status = "error"
    try:
        s = socket.create_connection((host, int(port)), timeout=120)
        s.sendall(f"POST /v1/evaluate HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/csv\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        try:
            s.sendall(body)
        except OSError:
            pass  # refused before the body: the answer is already there
        raw = b""
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            raw += chunk
        status = raw.split(b" ", 2)[1].decode() if raw else "closed"
    except OSError as e:
        status = type(e).__name__
    return status

started = time.time()
threads = [threading.Thread(target=post) for _ in range(clients)]
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.time() - started
time.sleep(5)
sampling = False
after = rss()
server.terminate(); server.wait()
print(f"{'retrying ' if RETRY else ''}{binary} {' '.join(extra)}: idle {idle} MiB, peak {peak} MiB, 5 s after {after} MiB; "
      f"{clients} x {len(body)/1e6:.1f} MB in {elapsed:.1f} s: {dict(sorted(statuses.items()))}")
