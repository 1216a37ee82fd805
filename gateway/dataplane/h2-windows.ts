/**
 * HTTP/2 flow-control windows of east-west sessions. The protocol defaults (64 KiB per stream
 * and per connection, RFC 9113 §6.9.2) cap a stream at one window per round trip; at the
 * sizes below a single stream fills a multi-gigabit link at the round trips between regions.
 */
export interface WindowTuning {
  /** SETTINGS_INITIAL_WINDOW_SIZE: what one stream may have in flight. */
  streamWindowBytes: number;
  /** The connection window, shared by all streams of a session. */
  sessionWindowBytes: number;
}

export const H2_WINDOWS: WindowTuning = { streamWindowBytes: 1 << 20, sessionWindowBytes: 16 << 20 };
