/** One benchmark figure, as written to bench/results/<suite>.json. */
export interface Figure {
  name: string;
  /** null when the run could not produce it (a peer out of memory or past its time limit): `note` says why. */
  value: number | null;
  unit: string;
  /** Like "<= 1"; null where the figure is context for another. */
  target: string | null;
  /** The peer's value from the same run, where the suite has a peer. */
  peer: number | null;
  /** What a reader needs beside the number: why it is null, what the peer was. */
  note?: string;
}
