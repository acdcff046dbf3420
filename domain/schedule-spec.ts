// When a model is retrained on a schedule: one zod schema for what an operator asks for (cron
// expressions or intervals, jitter, the overlap policy, a catch-up window, a note), checked before any
// Temporal Schedule is created, with every error naming its field. Cron expressions are read in
// Temporal's dialect (5, 6 or 7 fields, names, ranges, steps, @daily and friends, @every).
import { z } from 'zod';
import { formatPath, SAGEMAKER_NAME } from './config';

/** Temporal raises a shorter catch-up window to 10 s without saying so; we refuse it instead. */
export const MIN_CATCHUP_WINDOW_SECONDS = 10;

/** The overlap policies a retraining schedule offers (Temporal's, by their CLI names). */
export const OVERLAP_POLICIES = ['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'allow-all'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

const UNIT_SECONDS = { d: 86_400, h: 3_600, m: 60, s: 1 } as const;
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** "90s", "15m", "6h", "1d", "1h30m": whole seconds. Throws a message without the field name. */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim());
  if (!match || !text.trim()) throw new Error(`"${text}" is not a duration: write whole numbers with units d, h, m, s, largest first (e.g. 90s, 15m, 6h, 1d, 1h30m)`);
  const [, d, h, m, s] = match.map((p) => (p === undefined ? 0 : Number(p)));
  return d * UNIT_SECONDS.d + h * UNIT_SECONDS.h + m * UNIT_SECONDS.m + s;
}

/** 5400 → "1h30m": how durations are shown back. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  let rest = seconds;
  let text = '';
  for (const [unit, size] of Object.entries(UNIT_SECONDS)) {
    const count = Math.floor(rest / size);
    if (count) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text;
}

/** A cron field's name, allowed values and how long one step of it lasts (a lower bound for days and months). */
interface CronField {
  name: string;
  min: number;
  max: number;
  stepSeconds: number;
  names?: readonly string[];
}
const SECOND: CronField = { name: 'second', min: 0, max: 59, stepSeconds: 1 };
const MINUTE: CronField = { name: 'minute', min: 0, max: 59, stepSeconds: 60 };
const HOUR: CronField = { name: 'hour', min: 0, max: 23, stepSeconds: 3_600 };
const DAY_OF_MONTH: CronField = { name: 'day of month', min: 1, max: 31, stepSeconds: 86_400 };
const MONTH: CronField = { name: 'month', min: 1, max: 12, stepSeconds: 28 * 86_400, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] };
const DAY_OF_WEEK: CronField = { name: 'day of week', min: 0, max: 7, stepSeconds: 86_400, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] };
const YEAR: CronField = { name: 'year', min: 1970, max: 2999, stepSeconds: 365 * 86_400 };

const SHORTHANDS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** A cron expression as Temporal reads it: its firing values per field, or an interval for `@every`. */
export type ReadCron = { kind: 'calendar'; shortestGapSeconds: number } | { kind: 'interval'; everySeconds: number; offsetSeconds: number };

function fieldValue(text: string, field: CronField): number {
  const named = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return field === MONTH ? named + 1 : named;
  if (!/^\d+$/.test(text)) throw new Error(`the ${field.name} field has "${text}", which is not a number${field.names ? ` or a name (${field.names.join(', ')})` : ''}`);
  const value = Number(text);
  if (value < field.min || value > field.max) throw new Error(`the ${field.name} field has ${value}, outside ${field.min}-${field.max}`);
  return value;
}

/** The values one field matches: `*`, `5`, `1-5`, `*\/15`, `10-50/10`, `MON-FRI`, lists of these. */
function fieldValues(text: string, field: CronField): number[] {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined || range === '') throw new Error(`the ${field.name} field has "${item}", which is not a value, range or step`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) throw new Error(`the ${field.name} field has step "${stepText}" in "${item}"; a step is a whole number of at least 1`);
      step = Number(stepText);
    }
    let start: number;
    let end: number;
    if (range === '*') [start, end] = [field.min, field === DAY_OF_WEEK ? 6 : field.max];
    else if (range.includes('-')) {
      const [from, to, more] = range.split('-');
      if (more !== undefined) throw new Error(`the ${field.name} field has "${range}", which is not a range like 1-5`);
      [start, end] = [fieldValue(from, field), fieldValue(to, field)];
      if (end < start) throw new Error(`the ${field.name} field's range "${range}" ends before it starts`);
    } else {
      start = fieldValue(range, field);
      end = stepText === undefined ? start : field === DAY_OF_WEEK ? 6 : field.max;
    }
    for (let v = start; v <= end; v += step) values.add(field === DAY_OF_WEEK && v === 7 ? 0 : v);
  }
  return [...values].sort((a, b) => a - b);
}

/** The shortest distance between matching values, counting the wrap into the next cycle. */
function shortestCyclicGap(values: number[], cycle: number): number {
  if (values.length < 2) return cycle;
  let gap = values[0] + cycle - values[values.length - 1];
  for (let i = 1; i < values.length; i++) gap = Math.min(gap, values[i] - values[i - 1]);
  return gap;
}

/**
 * Reads a cron expression in Temporal's dialect. Throws an error saying what is wrong. The shortest gap
 * between firings is a lower bound (it is exact for the usual expressions): jitter must stay below it.
 */
export function readCron(expression: string): ReadCron {
  let text = expression.replace(/#.*$/, '').trim();
  if (!text) throw new Error('is empty');
  if (/^(CRON_)?TZ=/.test(text)) throw new Error('carries a time zone prefix: give it as the timezone field (--timezone) instead');
  const every = /^@every\s+(\S+?)(?:\/(\S+))?$/.exec(text);
  if (every) {
    const everySeconds = parseDuration(every[1]);
    const offsetSeconds = every[2] ? parseDuration(every[2]) : 0;
    if (everySeconds < 1) throw new Error('@every needs an interval of at least 1s');
    if (offsetSeconds >= everySeconds) throw new Error(`@every's phase ${every[2]} must be shorter than its interval ${every[1]}`);
    return { kind: 'interval', everySeconds, offsetSeconds };
  }
  if (text.startsWith('@')) {
    const expanded = SHORTHANDS[text.toLowerCase()];
    if (!expanded) throw new Error(`"${text}" is not a shorthand Temporal knows (${Object.keys(SHORTHANDS).join(', ')}, @every <interval>)`);
    text = expanded;
  }
  const parts = text.split(/\s+/);
  let fields: CronField[];
  if (parts.length === 5) fields = [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK];
  else if (parts.length === 6) fields = [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR];
  else if (parts.length === 7) fields = [SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR];
  else throw new Error(`has ${parts.length} fields; Temporal reads 5 (minute hour day-of-month month day-of-week), 6 (… year) or 7 (second … year)`);
  const values = new Map<CronField, number[]>(fields.map((field, i) => [field, fieldValues(parts[i], field)]));
  const of = (field: CronField) => values.get(field) ?? [field.min];

  // The finest field that varies sets the shortest gap; a single value there moves up to the next field.
  for (const [field, cycle] of [[SECOND, 60], [MINUTE, 60], [HOUR, 24]] as const) {
    if (of(field).length > 1) return { kind: 'calendar', shortestGapSeconds: shortestCyclicGap(of(field), cycle) * field.stepSeconds };
  }
  const allDays = (field: CronField) => of(field).length === (field === DAY_OF_WEEK ? 7 : field.max - field.min + 1);
  const dayGaps: number[] = [];
  if (!allDays(DAY_OF_WEEK)) dayGaps.push(shortestCyclicGap(of(DAY_OF_WEEK), 7));
  if (!allDays(DAY_OF_MONTH)) dayGaps.push(of(DAY_OF_MONTH).length > 1 ? shortestCyclicGap(of(DAY_OF_MONTH), 28) : 28);
  if (!dayGaps.length) return { kind: 'calendar', shortestGapSeconds: 86_400 };
  const days = Math.max(...dayGaps);
  if (days < 28 || of(MONTH).length === 12) return { kind: 'calendar', shortestGapSeconds: days * 86_400 };
  return { kind: 'calendar', shortestGapSeconds: shortestCyclicGap(of(MONTH), 12) * MONTH.stepSeconds };
}

function durationField(what: string) {
  return z.string().transform((text, ctx) => {
    try {
      return parseDuration(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `${(err as Error).message} (${what})` });
      return z.NEVER;
    }
  });
}

/** What an operator asks for (the CLI's flags, or JSON): validated by {@link parseRetrainingSchedule}. */
export const RetrainingScheduleSchema = z
  .object({
    model: z.string().regex(SAGEMAKER_NAME, 'must be a SageMaker name (1-63 letters, digits, hyphens): the model of the pipeline config'),
    /** Cron expressions in Temporal's dialect, UTC unless `timezone` is set. */
    cron: z.array(z.string()).default([]),
    /** Intervals: "6h", "1d", optionally with a phase: "1d/2h" is every day at 02:00 UTC. */
    every: z.array(z.string()).default([]),
    /** Each run starts up to this much later than its nominal time, spreading many models' runs. */
    jitter: durationField('jitter').optional(),
    /** How late a missed run (the server was down) may still start; at least 10s. Temporal's default is 365d. */
    catchupWindow: durationField('catch-up window').optional(),
    overlap: z.enum(OVERLAP_POLICIES, { error: `must be one of ${OVERLAP_POLICIES.join(', ')}` }).default('skip'),
    /** IANA time zone for cron expressions, e.g. Europe/Berlin. */
    timezone: z.string().optional(),
    paused: z.boolean().default(false),
    /** Shown with the schedule (Web UI, describe): why it exists or why it is paused. */
    note: z.string().max(1000).optional(),
    /** Retrain on every tick even without drift (otherwise each tick checks drift and retrains only on drift). */
    force: z.boolean().default(false),
    /** Pause the schedule when a scheduled run fails, so a broken pipeline is not retried every tick. */
    pauseOnFailure: z.boolean().default(false),
  })
  .strict()
  .transform((input, ctx) => {
    const intervals: { everySeconds: number; offsetSeconds: number; text: string }[] = [];
    const calendars: { expression: string; shortestGapSeconds: number }[] = [];
    input.cron.forEach((expression, i) => {
      try {
        const read = readCron(expression);
        if (read.kind === 'interval') intervals.push({ everySeconds: read.everySeconds, offsetSeconds: read.offsetSeconds, text: expression.trim().replace(/^@every\s+/, '') });
        else calendars.push({ expression: expression.trim(), shortestGapSeconds: read.shortestGapSeconds });
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['cron', i], message: `"${expression}" ${(err as Error).message}` });
      }
    });
    input.every.forEach((text, i) => {
      const [every, phase, extra] = text.split('/');
      try {
        if (extra !== undefined) throw new Error(`"${text}" has more than one "/": write <interval> or <interval>/<phase>, e.g. 1d/2h`);
        const everySeconds = parseDuration(every);
        const offsetSeconds = phase === undefined ? 0 : parseDuration(phase);
        if (everySeconds < 1) throw new Error('an interval must be at least 1s');
        if (offsetSeconds >= everySeconds) throw new Error(`the phase ${phase} must be shorter than the interval ${every}`);
        intervals.push({ everySeconds, offsetSeconds, text });
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['every', i], message: (err as Error).message });
      }
    });
    if (!input.cron.length && !input.every.length) ctx.addIssue({ code: 'custom', path: ['cron'], message: 'give a cron expression or an interval (every): a schedule needs times to run' });
    const jitterSeconds = input.jitter ?? 0;
    const gaps = [...intervals.map((i) => ({ seconds: i.everySeconds, of: `the interval ${i.text}` })), ...calendars.map((c) => ({ seconds: c.shortestGapSeconds, of: `"${c.expression}"` }))];
    const shortest = gaps.sort((a, b) => a.seconds - b.seconds)[0];
    if (shortest && jitterSeconds >= shortest.seconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['jitter'],
        message: `${formatDuration(jitterSeconds)} must be shorter than ${shortest.of} (${formatDuration(shortest.seconds)} between runs), or runs would pile onto each other`,
      });
    }
    if (input.catchupWindow !== undefined && input.catchupWindow < MIN_CATCHUP_WINDOW_SECONDS) {
      ctx.addIssue({ code: 'custom', path: ['catchupWindow'], message: `${formatDuration(input.catchupWindow)} is shorter than Temporal's minimum of ${MIN_CATCHUP_WINDOW_SECONDS}s` });
    }
    if (input.timezone !== undefined) {
      try {
        new Intl.DateTimeFormat('en', { timeZone: input.timezone });
      } catch {
        ctx.addIssue({ code: 'custom', path: ['timezone'], message: `"${input.timezone}" is not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)` });
      }
    }
    return {
      model: input.model,
      scheduleId: retrainingScheduleId(input.model),
      calendars: calendars.map((c) => c.expression),
      intervals: intervals.map(({ everySeconds, offsetSeconds }) => ({ everySeconds, offsetSeconds })),
      jitterSeconds,
      catchupWindowSeconds: input.catchupWindow,
      overlap: input.overlap,
      timezone: input.timezone,
      paused: input.paused,
      note: input.note,
      force: input.force,
      pauseOnFailure: input.pauseOnFailure,
      /** One line for the run's details and the schedule's memo. */
      description: describeSchedule({ calendars: calendars.map((c) => c.expression), intervals, jitterSeconds, timezone: input.timezone, overlap: input.overlap, force: input.force }),
    };
  });
export type RetrainingScheduleInput = z.input<typeof RetrainingScheduleSchema>;
export type RetrainingSchedule = z.output<typeof RetrainingScheduleSchema>;

/** One schedule per model: `retrain-schedule-<model>`. */
export function retrainingScheduleId(model: string): string {
  return `retrain-schedule-${model}`;
}

function describeSchedule(s: { calendars: string[]; intervals: { text: string }[]; jitterSeconds: number; timezone?: string; overlap: OverlapPolicy; force: boolean }): string {
  const times = [...s.calendars.map((c) => `cron "${c}"${s.timezone ? ` (${s.timezone})` : ' (UTC)'}`), ...s.intervals.map((i) => `every ${i.text}`)].join(' and ');
  return `${times}${s.jitterSeconds ? `, jitter ${formatDuration(s.jitterSeconds)}` : ''}, overlap ${s.overlap}${s.force ? ', forced (retrains without drift)' : ''}`;
}

/** Thrown for a schedule that must never be created. The message lists every bad field. */
export class InvalidScheduleError extends Error {
  override readonly name = 'InvalidScheduleError';
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid schedule:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
  }
}

export function parseRetrainingSchedule(input: unknown): RetrainingSchedule {
  const result = RetrainingScheduleSchema.safeParse(input);
  if (!result.success) throw new InvalidScheduleError(result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })));
  return result.data;
}
