// The schedule spec, pure: cron expressions in Temporal's dialect, intervals, jitter, the catch-up
// window and the overlap policy, each refused with an error naming its field.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDuration, InvalidScheduleError, parseDuration, parseRetrainingSchedule, readCron, retrainingScheduleId } from '../domain/schedule-spec';

function problems(input: unknown): string[] {
  try {
    parseRetrainingSchedule(input);
  } catch (err) {
    assert.ok(err instanceof InvalidScheduleError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('the schedule was accepted');
}

describe('durations', () => {
  test('whole numbers with units, largest first', () => {
    assert.equal(parseDuration('90s'), 90);
    assert.equal(parseDuration('15m'), 900);
    assert.equal(parseDuration('6h'), 21_600);
    assert.equal(parseDuration('1d'), 86_400);
    assert.equal(parseDuration('1h30m'), 5_400);
    assert.equal(formatDuration(5_400), '1h30m');
    assert.equal(formatDuration(86_400 + 5), '1d5s');
    for (const bad of ['', '6', '6 hours', '1.5h', '30m1h', '-1h', 'h']) assert.throws(() => parseDuration(bad), /is not a duration/, bad);
  });
});

describe('cron expressions in Temporal’s dialect', () => {
  test('the shortest gap between firings comes from the finest field that varies', () => {
    const gap = (expr: string) => {
      const read = readCron(expr);
      assert.equal(read.kind, 'calendar', expr);
      return (read as { shortestGapSeconds: number }).shortestGapSeconds;
    };
    assert.equal(gap('*/15 * * * *'), 900);
    assert.equal(gap('0 2 * * *'), 86_400);
    assert.equal(gap('0 9-17 * * MON-FRI'), 3_600);
    assert.equal(gap('0 2 * * MON'), 7 * 86_400);
    assert.equal(gap('0 2 * * MON,THU'), 3 * 86_400);
    assert.equal(gap('0 0 1 * *'), 28 * 86_400);
    assert.equal(gap('@hourly'), 3_600);
    assert.equal(gap('@daily # nightly retrain'), 86_400);
    assert.equal(gap('30 */10 * * * * *'), 600, 'seven fields start with seconds');
    assert.equal(gap('0 3 * JAN,JUL * 2027'), 86_400, 'six fields end with a year');
  });

  test('@every is an interval, with an optional phase', () => {
    assert.deepEqual(readCron('@every 6h'), { kind: 'interval', everySeconds: 21_600, offsetSeconds: 0 });
    assert.deepEqual(readCron('@every 1d/2h'), { kind: 'interval', everySeconds: 86_400, offsetSeconds: 7_200 });
  });

  test('mistakes are named', () => {
    assert.throws(() => readCron('61 * * * *'), /the minute field has 61, outside 0-59/);
    assert.throws(() => readCron('0 24 * * *'), /the hour field has 24, outside 0-23/);
    assert.throws(() => readCron('0 2 * * FUNDAY'), /the day of week field has "FUNDAY", which is not a number or a name \(SUN, MON/);
    assert.throws(() => readCron('0 2 * *'), /has 4 fields; Temporal reads 5/);
    assert.throws(() => readCron('*/0 * * * *'), /step "0"/);
    assert.throws(() => readCron('0 5-2 * * *'), /range "5-2" ends before it starts/);
    assert.throws(() => readCron('@fortnightly'), /not a shorthand Temporal knows/);
    assert.throws(() => readCron('CRON_TZ=Europe/Berlin 0 2 * * *'), /--timezone/);
  });
});

describe('a retraining schedule', () => {
  test('defaults: overlap skip, not paused, not forced; one schedule per model', () => {
    const schedule = parseRetrainingSchedule({ model: 'churn-propensity', every: ['6h'], jitter: '10m', catchupWindow: '1h', note: 'nightly drift check' });
    assert.equal(schedule.scheduleId, retrainingScheduleId('churn-propensity'));
    assert.equal(schedule.scheduleId, 'retrain-schedule-churn-propensity');
    assert.deepEqual(schedule.intervals, [{ everySeconds: 21_600, offsetSeconds: 0 }]);
    assert.equal(schedule.jitterSeconds, 600);
    assert.equal(schedule.catchupWindowSeconds, 3_600);
    assert.equal(schedule.overlap, 'skip');
    assert.equal(schedule.paused, false);
    assert.equal(schedule.force, false);
    assert.equal(schedule.description, 'every 6h, jitter 10m, overlap skip');
    const cron = parseRetrainingSchedule({ model: 'm', cron: ['0 2 * * *', '@every 12h'], timezone: 'Europe/Berlin', overlap: 'buffer-one', force: true });
    assert.deepEqual(cron.calendars, ['0 2 * * *']);
    assert.deepEqual(cron.intervals, [{ everySeconds: 43_200, offsetSeconds: 0 }]);
    assert.equal(cron.description, 'cron "0 2 * * *" (Europe/Berlin) and every 12h, overlap buffer-one, forced (retrains without drift)');
  });

  test('each bad field is named', () => {
    assert.deepEqual(problems({ model: 'churn', every: [] }), ['cron: give a cron expression or an interval (every): a schedule needs times to run']);
    assert.match(problems({ model: 'churn', cron: ['0 25 * * *'] })[0], /^cron\[0\]: "0 25 \* \* \*" the hour field has 25, outside 0-23$/);
    assert.match(problems({ model: 'churn', every: ['6 hours'] })[0], /^every\[0\]: "6 hours" is not a duration/);
    assert.match(problems({ model: 'churn', every: ['1h/2h'] })[0], /^every\[0\]: the phase 2h must be shorter than the interval 1h/);
    assert.match(problems({ model: 'churn', every: ['1h'], jitter: '1h' })[0], /^jitter: 1h must be shorter than the interval 1h \(1h between runs\)/);
    assert.match(problems({ model: 'churn', cron: ['*/15 * * * *'], jitter: '20m' })[0], /^jitter: 20m must be shorter than "\*\/15 \* \* \* \*" \(15m between runs\)/);
    assert.match(problems({ model: 'churn', every: ['1h'], jitter: 'soon' })[0], /^jitter: "soon" is not a duration.*\(jitter\)$/);
    assert.match(problems({ model: 'churn', every: ['1h'], catchupWindow: '5s' })[0], /^catchupWindow: 5s is shorter than Temporal's minimum of 10s$/);
    assert.match(problems({ model: 'churn', every: ['1h'], overlap: 'terminate' })[0], /^overlap: must be one of skip, buffer-one, buffer-all, cancel-other, allow-all$/);
    assert.match(problems({ model: 'churn', cron: ['0 2 * * *'], timezone: 'Mars/Olympus' })[0], /^timezone: "Mars\/Olympus" is not an IANA time zone/);
    assert.match(problems({ model: 'churn_propensity', every: ['1h'] })[0], /^model: must be a SageMaker name/);
    assert.match(problems({ model: 'churn', every: ['1h'], evry: ['2h'] })[0], /evry/);
    // Several problems at once: all are listed.
    assert.equal(problems({ model: 'churn', cron: ['bad'], every: ['x'], catchupWindow: '1s' }).length, 3);
  });
});
