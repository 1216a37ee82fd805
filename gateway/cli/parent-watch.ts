/**
 * Calls `onOrphaned` once this process's parent has died: the kernel then re-parents it (to
 * init or a subreaper), so `process.ppid` changes. Lets `npm start` killed with SIGKILL take
 * the demo with it — npm cannot forward a signal it never got. Polled, because no event
 * reports it; the timer is unref'd and never keeps the process alive.
 */
export function watchParent(onOrphaned: () => void, intervalMs = 500): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onOrphaned();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
