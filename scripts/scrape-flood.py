#!/usr/bin/env python3
# How a scrape flood slows the fold: wsmon --headless --metrics on ENDPOINTS endpoints of the
# built-in server, each flooding PER messages, with SCRAPERS clients scraping as fast as they can.
# Usage: scripts/scrape-flood.py target/release/wsmon ENDPOINTS PER SCRAPERS
import subprocess, sys, time, threading, urllib.request, re, socket
binary, eps, per, scrapers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def free():
    s=socket.socket(); s.bind(("127.0.0.1",0)); p=s.getsockname()[1]; s.close(); return p
port=free()
srv=subprocess.Popen([binary,"serve","--port",str(port),"--flood",str(per),"--size","32"],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
time.sleep(0.5)
urls=[f"ws://127.0.0.1:{port}/{i}" for i in range(eps)]
w=subprocess.Popen([binary,"--headless","--metrics","127.0.0.1:0",*urls],stdout=subprocess.PIPE,stderr=subprocess.PIPE,bufsize=1<<20)
line=w.stderr.readline().decode()
mport=int(re.search(r":(\d+)/metrics",line).group(1))
stop=False; counts=[0,0]
def scrape():
    while not stop:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics",timeout=20).read(); counts[0]+=1
        except Exception as e: counts[1]+=1
ts=[threading.Thread(target=scrape) for _ in range(scrapers)]
t0=time.time()
for t in ts: t.start()
n=0; total=eps*per
for l in w.stdout:
    if b'"event":"recv"' in l:
        n+=1
        if n==total: break
el=time.time()-t0
stop=True
for t in ts: t.join()
print(f"{binary}: {eps} endpoints x {per} msgs, {scrapers} scrapers: all {total} in {el:.2f}s; scrapes ok {counts[0]} failed {counts[1]}")
w.kill(); srv.kill(); w.wait(); srv.wait()
