"""A leader that hangs instead of dying (SIGSTOP: its connections stay open,
as behind a firewall that drops packets or during a long pause). The other
nodes elect new leaders within an election timeout; a client writing through
one of them must see its writes resume as soon, not only when the forwards
that were waiting on the hung node time out (5 s). Then the node resumes,
steps down where it was replaced, and every acknowledged write is readable
through it and through the others."""
import collections
import signal
import threading
import time

from cluster_lib import Cluster, check, count_missing, finish, write_numbers

HANG_S = 7.0          # longer than the forward timeout (5 s)
MAX_GAP_S = 3.5       # election (0.2-0.8 s) + retry, well short of the timeout


with Cluster() as c:
    c.start_all()
    leaders = c.leaders(1)
    victim = collections.Counter(leaders.values()).most_common()[0][0]
    survivor = [i for i in c.ports if i != victim][0]
    led_before = sum(1 for v in leaders.values() if v == victim)
    acked, errors, gaps = [], collections.Counter(), []
    stop = threading.Event()
    t = threading.Thread(target=write_numbers, args=(c, [survivor], "hung", acked, stop, errors,
                                                   gaps, 20, 500000))
    t.start()
    time.sleep(1.0)
    before = len(acked)
    c.procs[victim].send_signal(signal.SIGSTOP)
    try:
        time.sleep(HANG_S)
        during = len(acked) - before
    finally:
        c.procs[victim].send_signal(signal.SIGCONT)
    time.sleep(1.0)
    stop.set()
    t.join(timeout=60)
    longest = max(gaps) if gaps else float("inf")
    print("node %d (leading %d shards) hung %.0f s: %d writes through node %d meanwhile, "
          "longest client gap %.3f s, errors %s"
          % (victim, led_before, HANG_S, during, survivor, longest, dict(errors)))
    check(during > 100, "writes did not resume while node %d hung" % victim)
    check(longest < MAX_GAP_S,
          "a write waited %.3f s for the hung leader (new leaders came within an election "
          "timeout)" % longest)
    c.wait_ready()
    for via in (victim, survivor):
        missing = count_missing(c.client(via, socket_timeout=20), "hung", acked)
        check(missing == 0, "%d acknowledged writes unreadable through node %d" % (missing, via))

finish()
