// How numbers read on the page. A missing value is an em dash, never 0: "no data" and "none" differ.

const DASH = '—';

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return DASH;
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export function formatRate(rps: number): string {
  return rps.toFixed(rps < 10 ? 2 : 1);
}

export function formatPercent(ratio: number | null): string {
  return ratio === null ? DASH : `${(ratio * 100).toFixed(ratio === 1 ? 0 : 1)} %`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatTime(iso: string): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : at.toLocaleTimeString('en-GB', { hour12: false });
}
