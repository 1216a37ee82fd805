// CPU time of a proxy process, from /proc/<pid>/stat (proc(5)): utime + stime of the process
// and of its live descendants (nginx's worker under its master; a gateway's data-plane workers
// once it has them), plus cutime + cstime, which the kernel adds when a child is reaped (socat
// forks one child per connection). Read before and after a load run and divided by the
// requests served, it gives CPU µs per request without a profiler in the path.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux ABI Node runs on (`getconf CLK_TCK`).

interface StatFields {
  ppid: number;
  ownTicks: number;
  reapedTicks: number;
}

function readStat(pid: number): StatFields | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone between the listing and the read
  }
  // comm may contain spaces and parentheses: the fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const at = (n: number): number => Number(fields[n - 3]); // proc(5) numbers fields from 1; state is field 3
  return { ppid: at(4), ownTicks: at(14) + at(15), reapedTicks: at(16) + at(17) };
}

/** CPU seconds used so far by `pid` and every process below it. */
export function cpuSeconds(pid: number): number {
  const stats = new Map<number, StatFields>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat !== undefined) stats.set(Number(entry), stat);
  }
  const children = new Map<number, number[]>();
  for (const [child, stat] of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), child]);
  let ticks = 0;
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.pop()!;
    const stat = stats.get(next);
    if (stat === undefined) continue;
    ticks += stat.ownTicks + stat.reapedTicks;
    queue.push(...(children.get(next) ?? []));
  }
  return ticks / TICKS_PER_SECOND;
}

/** Snapshot several processes at once; `elapsed()` gives CPU seconds of each since the snapshot. */
export function cpuSnapshot(pids: Record<string, number>): { elapsed(): Record<string, number> } {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  return {
    elapsed: () => Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid) - (before[name] ?? 0)])),
  };
}
