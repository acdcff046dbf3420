// The List* conventions shared by every resource: filters, sort keys, and opaque NextToken paging.
import { validationError } from './errors';

export interface ListRequest {
  NameContains?: string;
  CreationTimeAfter?: Date | number | string;
  CreationTimeBefore?: Date | number | string;
  LastModifiedTimeAfter?: Date | number | string;
  LastModifiedTimeBefore?: Date | number | string;
  MaxResults?: number;
  NextToken?: string;
  SortOrder?: string;
}

export interface Listable {
  name: string;
  creationTime: Date;
  lastModifiedTime?: Date;
  status?: string;
}

/** Timestamps arrive as epoch seconds on the JSON 1.1 wire. */
function toMillis(value: Date | number | string): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value * 1000;
  const numeric = Number(value);
  return Number.isFinite(numeric) ? numeric * 1000 : Date.parse(value);
}

export function listPage<T extends Listable>(
  rows: T[],
  request: ListRequest,
  options: { sortBy: (row: T) => string | number; defaultOrder: 'Ascending' | 'Descending'; defaultMaxResults: number },
): { page: T[]; nextToken?: string } {
  const lower = request.NameContains?.toLowerCase();
  const filtered = rows.filter((row) => {
    if (lower && !row.name.toLowerCase().includes(lower)) return false;
    const created = row.creationTime.getTime();
    if (request.CreationTimeAfter !== undefined && !(created > toMillis(request.CreationTimeAfter))) return false;
    if (request.CreationTimeBefore !== undefined && !(created < toMillis(request.CreationTimeBefore))) return false;
    const modified = (row.lastModifiedTime ?? row.creationTime).getTime();
    if (request.LastModifiedTimeAfter !== undefined && !(modified > toMillis(request.LastModifiedTimeAfter))) return false;
    if (request.LastModifiedTimeBefore !== undefined && !(modified < toMillis(request.LastModifiedTimeBefore))) return false;
    return true;
  });
  const direction = (request.SortOrder ?? options.defaultOrder) === 'Descending' ? -1 : 1;
  filtered.sort((a, b) => {
    const ka = options.sortBy(a);
    const kb = options.sortBy(b);
    const byKey = ka < kb ? -1 : ka > kb ? 1 : 0;
    return direction * (byKey || a.creationTime.getTime() - b.creationTime.getTime());
  });
  const offset = decodeToken(request.NextToken);
  const size = request.MaxResults ?? options.defaultMaxResults;
  const page = filtered.slice(offset, offset + size);
  const next = offset + size;
  return { page, nextToken: next < filtered.length ? encodeToken(next) : undefined };
}

/** A training or processing job's record, as their List operations read it. */
interface ListedJob {
  status: string;
  creationTime: Date;
  lastModifiedTime?: Date;
}

/**
 * ListTrainingJobs' and ListProcessingJobs' shared rules: StatusEquals, then listPage's filters, sorted
 * by CreationTime (the default), Name or Status, ascending unless asked otherwise, 10 to a page.
 */
export function jobListPage<R extends ListedJob>(
  records: Iterable<R>,
  nameOf: (record: R) => string,
  request: ListRequest & { StatusEquals?: string; SortBy?: string },
): { page: R[]; nextToken?: string } {
  const rows = [...records]
    .filter((r) => !request.StatusEquals || r.status === request.StatusEquals)
    .map((r) => ({ name: nameOf(r), creationTime: r.creationTime, lastModifiedTime: r.lastModifiedTime, record: r }));
  const sortBy = request.SortBy ?? 'CreationTime';
  const { page, nextToken } = listPage(rows, request, {
    sortBy: (row) => (sortBy === 'Name' ? row.name : sortBy === 'Status' ? row.record.status : row.creationTime.getTime()),
    defaultOrder: 'Ascending',
    defaultMaxResults: 10,
  });
  return { page: page.map((row) => row.record), nextToken };
}

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64');
}

function decodeToken(token: string | undefined): number {
  if (token === undefined) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through to the service's answer for a token it did not issue
  }
  throw validationError('Invalid pagination token. Please provide a valid pagination token.');
}
