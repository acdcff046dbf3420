/** One benchmark figure, as written to bench/results/<suite>.json. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** Like "<= 1"; null where the figure is context for another. */
  target: string | null;
  /** The peer's value from the same run, where the suite has a peer. */
  peer: number | null;
}
