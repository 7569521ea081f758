#!/usr/bin/python3
"""The soak's measuring side (scripts/soak.sh runs it).

sample PID OUT SECS   every second, one TSV row of PID's footprint from
                      /proc/PID: t (s since start), rss_kib, fds, threads,
                      cpu_s (utime+stime), host_procs (processes on the host)
load SECS             a changing process load for SECS: bursts of short-lived
                      processes at a rate that moves through phases, and a
                      few long-lived ones (`sleep`) whose number varies
verdict TSV OUTDIR    the growth verdict over the samples after warm-up, a
                      summary (markdown and TSV) and a PNG plot (gnuplot);
                      exit 1 when RSS, fds or threads keep growing

The verdict rule (docs/soak.md says why these numbers): over the samples
after warm-up (the first 20% of the run), a metric keeps growing when all
three hold:
  1. its least-squares slope over the whole window is above SLOPE per hour,
  2. its slope over the last half of the window is above SLOPE per hour too
     (a leak goes on; a high-water mark reached once, e.g. while the broker
     was away, does not),
  3. the median of the window's last quarter is above the median of its
     first quarter by more than RISE.
"""
import os
import statistics
import subprocess
import sys
import time

# metric: (column, unit shown, scale to shown unit, SLOPE per hour, RISE)
RULES = {
    "rss": ("rss_kib", "MiB", 1 / 1024, 2048, 512),
    "fds": ("fds", "fds", 1, 2, 0),
    "threads": ("threads", "threads", 1, 1, 0),
}
WARMUP = 0.2
CLK_TCK = os.sysconf("SC_CLK_TCK")


def footprint(pid):
    rss = threads = None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    fds = len(os.listdir("/proc/%d/fd" % pid))
    with open("/proc/%d/stat" % pid) as f:
        st = f.read().rsplit(")", 1)[1].split()
    cpu = (int(st[11]) + int(st[12])) / CLK_TCK
    procs = sum(1 for d in os.listdir("/proc") if d.isdigit())
    return rss, fds, threads, cpu, procs


def cmd_sample(pid, out, secs):
    pid, secs = int(pid), float(secs)
    t0 = time.monotonic()
    with open(out, "w") as f:
        f.write("t\trss_kib\tfds\tthreads\tcpu_s\thost_procs\n")
        n = 0
        while n <= secs:
            try:
                rss, fds, threads, cpu, procs = footprint(pid)
            except (FileNotFoundError, ProcessLookupError):
                sys.exit("soak: sampler: process %d is gone after %d s" % (pid, n))
            f.write("%d\t%d\t%d\t%d\t%.2f\t%d\n" % (n, rss, fds, threads, cpu, procs))
            f.flush()
            n += 1
            # ticks on the start's grid: a slow round does not shift the rest
            time.sleep(max(0.0, t0 + n - time.monotonic()))


def short_rate(t):
    """Short-lived processes per second at t: a 2-minute cycle of quiet,
    steady, bursty and busy phases, the bursts 100, 80, 60, 100... processes:
    the largest comes in the first cycle, inside any warm-up of 2 min or more,
    so that the high-water marks it leaves do not read as growth."""
    cycle, p = divmod(int(t), 120)
    if p < 30:
        return 2
    if p < 60:
        return 15
    if p < 90:
        return 100 - 20 * (cycle % 3) if p % 5 == 0 else 0
    return 30


def long_target(t):
    """Long-lived processes wanted at t: 1, 6, 5, 4, 3, 2, 1, 6... changing every
    minute (the most in the first two minutes, as the bursts)."""
    return 1 + (int(t) // 60 * 5) % 6


def cmd_load(secs):
    secs = float(secs)
    t0 = time.monotonic()
    short, long_ = [], []  # Popen; long_: (Popen, end time)
    n = 0
    try:
        while True:
            t = time.monotonic() - t0
            if t >= secs:
                break
            short = [p for p in short if p.poll() is None]
            for p, end in long_:
                if end <= t and p.poll() is None:
                    p.terminate()
            long_ = [(p, e) for p, e in long_ if p.poll() is None]
            # bounded: never more than 300 children at once
            for i in range(min(short_rate(t), 300 - len(short))):
                argv = ["/bin/true"] if i % 2 else ["/bin/sleep", "0.05"]
                short.append(subprocess.Popen(argv))
                n += 1
            while len(long_) < long_target(t):
                life = 15 + (n * 7919) % 75  # 15..89 s, spread without a clock
                long_.append((subprocess.Popen(["/bin/sleep", str(life + 5)]), t + life))
                n += 1
            time.sleep(max(0.0, t0 + int(t) + 1 - time.monotonic()))
    finally:
        for p in short + [p for p, _ in long_]:
            if p.poll() is None:
                p.kill()
            p.wait()
        print("soak: load: %d processes started in %.0f s" % (n, time.monotonic() - t0))


def slope_per_hour(ts, ys):
    if len(ts) < 3 or len(set(ys)) == 1:
        return 0.0
    return statistics.linear_regression(ts, ys).slope * 3600


def judge(rows, col, slope_max, rise_max):
    """The rule of the module's doc string over rows after warm-up."""
    ts = [r["t"] for r in rows]
    ys = [r[col] for r in rows]
    q = max(1, len(rows) // 4)
    half = len(rows) // 2
    s_all = slope_per_hour(ts, ys)
    s_last = slope_per_hour(ts[half:], ys[half:])
    first, last = statistics.median(ys[:q]), statistics.median(ys[-q:])
    fit = statistics.linear_regression(ts, ys) if len(set(ys)) > 1 else None
    grows = s_all > slope_max and s_last > slope_max and last - first > rise_max
    return {
        "first": first,
        "last": last,
        "min": min(ys),
        "max": max(ys),
        "slope": s_all,
        "slope_last": s_last,
        "fit": (fit.slope, fit.intercept) if fit else (0.0, ys[0]),
        "grows": grows,
    }


def read_tsv(path):
    with open(path) as f:
        head = f.readline().split()
        return [dict(zip(head, map(float, line.split()))) for line in f if line.strip()]


def cpu_series(rows, window=10):
    """CPU in ms per second, averaged over `window` s (ticks are 10 ms)."""
    out = []
    for i, r in enumerate(rows):
        j = max(0, i - window)
        dt = r["t"] - rows[j]["t"]
        out.append((r["cpu_s"] - rows[j]["cpu_s"]) * 1000 / dt if dt else 0.0)
    return out


def read_events(outdir):
    """soak.sh's marks: lines 'NAME T' (outage_start, outage_end)."""
    ev = {}
    try:
        with open(os.path.join(outdir, "events.txt")) as f:
            for line in f:
                k, v = line.split()
                ev[k] = float(v)
    except FileNotFoundError:
        pass
    return ev


def plot(outdir, rows, res, warm_t, ev):
    cpu = cpu_series(rows)
    dat = os.path.join(outdir, "plot.dat")
    with open(dat, "w") as f:
        for r, c in zip(rows, cpu):
            f.write("%g %g %g %g %.2f %g\n" % (r["t"] / 60, r["rss_kib"] / 1024, r["fds"],
                                               r["threads"], c, r["host_procs"]))
    end = rows[-1]["t"] / 60
    g = ['set terminal pngcairo size 1100,1300 font ",10"',
         'set output "%s"' % os.path.join(outdir, "soak.png"),
         "set multiplot layout 4,1 title \"sensorbus soak: %d min, sampled every second; "
         "grey: warm-up; red band: broker outage; dashed: least-squares fit after warm-up\"" % round(end),
         # fixed margins: the panels' x axes line up despite the CPU one's y2 axis
         "set lmargin 10", "set rmargin 10",
         "set grid", "set xrange [0:%g]" % end, "set key top left",
         'set style rect fc rgb "#dddddd" fs solid 0.5 noborder',
         "set obj 1 rect from 0, graph 0 to %g, graph 1 behind" % (warm_t / 60)]
    if "outage_start" in ev and "outage_end" in ev:
        g.append('set obj 2 rect from %g, graph 0 to %g, graph 1 behind fc rgb "#ffcccc" fs solid 0.5 noborder'
                 % (ev["outage_start"] / 60, ev["outage_end"] / 60))
    # counts get one above and below their range: a flat line stays in view
    panels = [("rss", 2, "RSS (MiB)", 1 / 1024, "set autoscale y"),
              ("fds", 3, "open fds", 1, "set yrange [%d:%d]" % (min(r["fds"] for r in rows) - 1,
                                                                max(r["fds"] for r in rows) + 1)),
              ("threads", 4, "threads", 1, "set yrange [%d:%d]" % (min(r["threads"] for r in rows) - 1,
                                                                   max(r["threads"] for r in rows) + 1))]
    for name, col, label, scale, yrange in panels:
        k, b = res[name]["fit"]
        fx = "(x*60 >= %g ? (%g*x*60 + %g)*%g : 1/0)" % (warm_t, k, b, scale)
        g += ['set ylabel "%s"' % label, yrange,
              "plot \"%s\" using 1:%d with lines lw 1.5 title \"%s\", %s with lines dt 2 lw 2 lc rgb \"black\" title \"fit\""
              % (dat, col, label, fx)]
    g += ["set autoscale y", 'set xlabel "minutes"', 'set ylabel "CPU (ms/s, 10 s mean)"', 'set y2label "processes on the host"',
          "set y2tics", "set ytics nomirror",
          "plot \"%s\" using 1:5 with lines lw 1.5 title \"agent CPU\", \"%s\" using 1:6 axes x1y2 with lines lc rgb \"#999999\" title \"host processes\""
          % (dat, dat), "unset multiplot"]
    gp = os.path.join(outdir, "soak.gp")
    with open(gp, "w") as f:
        f.write("\n".join(g) + "\n")
    subprocess.run(["gnuplot", gp], check=True)
    os.unlink(dat)
    return os.path.join(outdir, "soak.png"), cpu


def cmd_verdict(tsv, outdir):
    rows = read_tsv(tsv)
    if len(rows) < 60:
        sys.exit("soak: only %d samples in %s: too few for a verdict" % (len(rows), tsv))
    warm_t = rows[-1]["t"] * WARMUP
    after = [r for r in rows if r["t"] >= warm_t]
    res = {name: judge(after, col, s, rise) for name, (col, _, _, s, rise) in RULES.items()}
    ev = read_events(outdir)
    png, cpu = plot(outdir, rows, res, warm_t, ev)
    cpu_after = [c for r, c in zip(rows, cpu) if r["t"] >= warm_t + 10]
    fmt = lambda v, sc: "%.2f" % (v * sc) if sc != 1 else "%g" % v
    lines = ["| metric | first quarter (median) | last quarter (median) | min | max | slope/h | slope/h, last half "
             "| growing when slope/h, both, > | and rise > | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    tsv_lines = ["metric\tfirst_q_median\tlast_q_median\tmin\tmax\tslope_per_h\tslope_per_h_last_half\t"
                 "slope_max\trise_max\tverdict"]
    for name, (col, unit, sc, s, rise) in RULES.items():
        r = res[name]
        v = "GROWING" if r["grows"] else "flat"
        cells = [fmt(r[k], sc) for k in ("first", "last", "min", "max", "slope", "slope_last")]
        lines.append("| %s (%s) | %s | %s | %s | %s | %s | %s | %s | %s | %s |"
                     % (name, unit, *cells, fmt(s, sc), fmt(rise, sc), v))
        tsv_lines.append("\t".join([name + "_" + unit] + cells + [fmt(s, sc), fmt(rise, sc), v]))
    grew = [n for n in RULES if res[n]["grows"]]
    cpu_line = "agent CPU after warm-up: mean %.1f ms/s, 10-s means from %.1f to %.1f ms/s" % (
        statistics.fmean(cpu_after), min(cpu_after), max(cpu_after))
    with open(os.path.join(outdir, "summary.md"), "w") as f:
        f.write("%d samples over %.0f s; warm-up: the first %.0f s (%d%%)\n\n" % (
            len(rows), rows[-1]["t"], warm_t, WARMUP * 100))
        f.write("\n".join(lines) + "\n\n" + cpu_line + "\n")
    with open(os.path.join(outdir, "summary.tsv"), "w") as f:
        f.write("\n".join(tsv_lines) + "\n")
    print("\n".join(lines))
    print(cpu_line)
    print("soak: plot %s" % png)
    if grew:
        print("soak: GROWING after warm-up: %s" % ", ".join(grew))
        return 1
    print("soak: RSS, fds and threads flat after warm-up")
    return 0


def main():
    cmds = {"sample": (cmd_sample, 3), "load": (cmd_load, 1), "verdict": (cmd_verdict, 2)}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds or len(sys.argv) != 2 + cmds[sys.argv[1]][1]:
        sys.exit(__doc__)
    fn, _ = cmds[sys.argv[1]]
    sys.exit(fn(*sys.argv[2:]) or 0)


if __name__ == "__main__":
    main()
