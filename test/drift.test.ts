// Drift statistics against scipy. Reference values come from scipy 1.17.1 / numpy 2.4.6 (Python 3.11),
// computed by the calls named beside each table. The samples are rebuilt here with the same IEEE
// arithmetic as the Python script, so both sides see bit-identical inputs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  chiSquareGoodnessOfFit,
  chooseMethod,
  compareDatasets,
  driftMethod,
  driftMethods,
  jensenShannonDistance,
  kolmogorovSmirnov,
  lInfinityDistance,
  normalisedWasserstein,
  populationStabilityIndex,
  psiWith,
  type DriftOptions,
} from '../domain/drift';
import { chiSquareSurvival } from '../domain/drift/gamma';
import { oneSampleSurvival } from '../domain/drift/kolmogorov';

function assertClose(actual: number, expected: number, relative = 1e-9, message = ''): void {
  const scale = Math.max(Math.abs(expected), Number.MIN_VALUE);
  const error = Math.abs(actual - expected) / scale;
  assert.ok(error <= relative, `${message} expected ${expected}, got ${actual} (relative error ${error.toExponential(2)} > ${relative})`);
}

/** Python: [(k + 0.5) / n * scale + shift for k in range(n)] */
function grid(n: number, scale = 1, shift = 0): number[] {
  return Array.from({ length: n }, (_, k) => ((k + 0.5) / n) * scale + shift);
}
/** Python: [np.floor(((k + 0.5) / n * scale + shift) * steps) / steps for k in range(n)] — many ties. */
function stepped(n: number, steps: number, scale = 1, shift = 0): number[] {
  return grid(n, scale, shift).map((v) => Math.floor(v * steps) / steps);
}

const smallReference = [0.61, -1.24, 0.33, 2.05, -0.47];
const smallCurrent = [1.12, 0.98, 2.4, -0.05, 1.77, 0.64, 3.01];

describe('Kolmogorov–Smirnov, two-sided, p-value as scipy.stats.ks_2samp(a, b, method="auto")', () => {
  const cases: { name: string; reference: number[]; current: number[]; statistic: number; pValue: number; distribution: 'exact' | 'asymptotic' }[] = [
    { name: 'small 5 vs 7', reference: smallReference, current: smallCurrent, statistic: 0.6571428571428571, pValue: 0.11616161616161617, distribution: 'exact' },
    { name: 'ties 8 vs 9', reference: [1, 2, 2, 3, 3, 3, 4, 5], current: [2, 3, 3, 4, 4, 5, 5, 5, 6], statistic: 0.4166666666666667, pValue: 0.35170711641299884, distribution: 'exact' },
    {
      name: 'equal sizes 8 vs 8',
      reference: [0.1, 0.4, 0.35, 0.8, 0.95, 0.2, 0.5, 0.66],
      current: [0.7, 0.9, 0.45, 1.2, 1.05, 0.85, 0.3, 0.99],
      statistic: 0.5,
      pValue: 0.2826728826728826,
      distribution: 'exact',
    },
    { name: 'grid 300 vs 450 shift 0.08', reference: grid(300), current: grid(450, 1, 0.08), statistic: 0.08222222222222222, pValue: 0.16875023202459338, distribution: 'exact' },
    { name: 'grid 1000 vs 1000 shift 0.05', reference: grid(1000), current: grid(1000, 1, 0.05), statistic: 0.051, pValue: 0.14836452078962484, distribution: 'exact' },
    { name: 'stepped ties 2000 vs 1500', reference: stepped(2000, 20), current: stepped(1500, 20, 1.1), statistic: 0.09066666666666667, pValue: 1.4162248643542862e-6, distribution: 'exact' },
    { name: 'grid 10000 vs 9000 shift 0.02', reference: grid(10000), current: grid(9000, 1, 0.02), statistic: 0.0201, pValue: 0.04284061433647445, distribution: 'exact' },
    { name: 'grid 10000 vs 9000 shift 0.1 (tiny p)', reference: grid(10000), current: grid(9000, 1, 0.1), statistic: 0.1001, pValue: 9.410186330358321e-42, distribution: 'exact' },
    // Beyond 10,000 per side scipy evaluates kstwo.sf(D, round(n1·n2/(n1+n2))); each case lands in a different region.
    { name: '12000 vs 15000, Durbin matrix region', reference: grid(12000), current: grid(15000, 1, 0.002), statistic: 0.002066666666666772, pValue: 1.0, distribution: 'asymptotic' },
    { name: '12000 vs 15000, Pelz–Good region', reference: grid(12000), current: grid(15000, 1, 0.012), statistic: 0.012066666666666725, pValue: 0.2838608055928711, distribution: 'asymptotic' },
    { name: '12000 vs 15000, Smirnov region', reference: grid(12000), current: grid(15000, 1, 0.03), statistic: 0.03006666666666674, pValue: 1.1388360851787924e-5, distribution: 'asymptotic' },
    { name: '120 vs 20000, effective n ≤ 140', reference: grid(120, 1.2), current: grid(20000), statistic: 0.17000000000000004, pValue: 0.00178003983856756, distribution: 'asymptotic' },
    // n1·n2/(n1+n2) = 5000.5 rounds to 5000 in numpy (half to even), not 5001.
    { name: '10001 vs 10001, effective n rounds half to even', reference: grid(10001), current: grid(10001, 1, 0.015), statistic: 0.015098490150984967, pValue: 0.20237846225989997, distribution: 'asymptotic' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = kolmogorovSmirnov(c.reference, c.current);
      assert.equal(result.distribution, c.distribution);
      assertClose(result.statistic, c.statistic, 1e-12, 'statistic');
      assertClose(result.pValue, c.pValue, 1e-9, 'p-value');
    });
  }

  it('is symmetric in its samples', () => {
    const forward = kolmogorovSmirnov(grid(300), grid(450, 1, 0.08));
    const backward = kolmogorovSmirnov(grid(450, 1, 0.08), grid(300));
    assert.equal(backward.statistic, forward.statistic);
    assertClose(backward.pValue, forward.pValue, 1e-12);
  });

  it('rejects an empty or non-finite sample instead of guessing', () => {
    assert.throws(() => kolmogorovSmirnov([], [1]), /reference sample is empty/);
    assert.throws(() => kolmogorovSmirnov([1, NaN], [1]), /non-finite value at index 1/);
  });
});

describe('one-sample two-sided KS survival, as scipy.stats.kstwo.sf(x, n)', () => {
  // [n, x, scipy.stats.kstwo.sf(x, n)]; comments name the region scipy evaluates it in.
  const cases: [number, number, number][] = [
    [5, 0.3, 0.664], // Durbin
    [5, 0.12, 0.999987712], // Ruben–Gambino, nx ≤ 1
    [5, 0.85, 0.0001518750000000001], // Ruben–Gambino, nx ≥ n − 1
    [50, 0.015, 1.0], // below 1/2n
    [50, 0.1, 0.6623112704658186], // Durbin
    [50, 0.2, 0.03143877776953241], // Pomeranz in scipy, Durbin here (both exact)
    [100, 0.35, 1.865228719089831e-11], // 2·smirnov
    [140, 0.6, 1.0052268370224967e-48], // x ≥ 0.5
    [200, 0.003, 1.0],
    [200, 0.0049, 1.0],
    [200, 0.03, 0.991436524714942], // Durbin, n > 140
    [200, 0.08, 0.1463961356372503], // Pelz–Good
    [3000, 0.0055, 0.9999866166291287], // Durbin
    [3000, 0.008, 0.9899621034262973], // Pelz–Good
    [3000, 0.01, 0.9220855022879386], // Pelz–Good
    [3000, 0.04, 0.0001315351297447678], // 2·smirnov
    [200000, 0.002, 0.39995085369038097], // Pelz–Good, n > 100,000
    [200000, 0.0004, 0.9999999999999997],
  ];
  for (const [n, x, expected] of cases) {
    it(`n=${n}, x=${x}`, () => assertClose(oneSampleSurvival(n, x), expected, 1e-9));
  }
});

describe('chi-square survival, as scipy.stats.chi2.sf(x, df)', () => {
  const cases: [number, number, number][] = [
    [0.5, 1, 0.47950012218695337],
    [3.84, 1, 0.05004352124870519],
    [12.0, 2, 0.002478752176666357],
    [7.3, 5, 0.19926778992124214],
    [45.0, 20, 0.0011034692430283482],
    [1.0, 30, 1.0],
    [250.0, 199, 0.008230113044724758],
    [400.0, 199, 1.2927080567006074e-15],
    [1500.0, 999, 8.513135655488133e-23],
  ];
  for (const [x, df, expected] of cases) {
    it(`x=${x}, df=${df}`, () => assertClose(chiSquareSurvival(x, df), expected, 1e-9));
  }
});

describe('categorical methods', () => {
  const repeat = (counts: Record<string, number>): string[] => Object.entries(counts).flatMap(([c, n]) => Array<string>(n).fill(c));
  const abcReference = repeat({ a: 50, b: 30, c: 20 });
  const abcShifted = repeat({ a: 30, b: 40, c: 25 });
  const abcStable = repeat({ a: 520, b: 290, c: 190 });
  const manyReference = Array.from({ length: 40 }, (_, i) => Array<string>(i + 1).fill(`k${String(i).padStart(2, '0')}`)).flat();
  const manyCurrent = Array.from({ length: 40 }, (_, i) => Array<string>(i + 1 + ((i * 7) % 5) - 2 + (i % 9 === 0 ? 3 : 0)).fill(`k${String(i).padStart(2, '0')}`)).flat();

  // chisquare: scipy.stats.chisquare(c, r * (c.sum() / r.sum())) over sorted union of categories
  // js:        scipy.spatial.distance.jensenshannon(r / r.sum(), c / c.sum(), base=2)
  // linf:      np.max(np.abs(r / r.sum() - c / c.sum())); robust: max(0, linf - 1.8*np.sqrt((n+m)/(n*m)))
  const cases = [
    { name: 'abc shifted', reference: abcReference, current: abcShifted, chi: [12.982456140350878, 0.00151668526795719], js: 0.16004186378916568, linf: 0.1842105263157895, robust: 0 },
    { name: 'abc stable, 10x current', reference: abcReference, current: abcStable, chi: [1.6333333333333333, 0.4419022095845254], js: 0.017177730224723547, linf: 0.020000000000000018, robust: 0 },
    {
      name: 'abc shifted, 10x both',
      reference: Array<string[]>(10).fill(abcReference).flat(),
      current: Array<string[]>(10).fill(abcShifted).flat(),
      chi: [129.82456140350877, 6.44102053077294e-29],
      js: 0.16004186378916568,
      linf: 0.1842105263157895,
      robust: 0.10265976717898272,
    },
    { name: '40 categories wobbled', reference: manyReference, current: manyCurrent, chi: [9.140745947042824, 0.9999998183437667], js: 0.042928433183554264, linf: 0.005374616620417702, robust: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const chi = chiSquareGoodnessOfFit(c.reference, c.current);
      assertClose(chi.statistic, c.chi[0], 1e-12, 'chi-square statistic');
      assertClose(chi.pValue, c.chi[1], 1e-9, 'chi-square p-value');
      assertClose(jensenShannonDistance(c.reference, c.current), c.js, 1e-9, 'Jensen–Shannon');
      assertClose(lInfinityDistance(c.reference, c.current), c.linf, 1e-12, 'L-infinity');
      assert.ok(Math.abs(lInfinityDistance(c.reference, c.current, true) - c.robust) < 1e-12, 'robust L-infinity');
    });
  }

  it('a category the reference never saw is infinite chi-square and p = 0 (scipy divides by a zero expectation)', () => {
    const result = chiSquareGoodnessOfFit(abcReference, [...abcShifted, 'd']);
    assert.equal(result.statistic, Infinity);
    assert.equal(result.pValue, 0);
  });

  it('identical samples are at distance 0 and p = 1', () => {
    assert.equal(jensenShannonDistance(abcReference, abcReference), 0);
    assert.equal(lInfinityDistance(abcReference, abcReference), 0);
    assertClose(chiSquareGoodnessOfFit(abcReference, abcReference).pValue, 1, 1e-12);
    assert.equal(chiSquareGoodnessOfFit(['x', 'x'], ['x']).pValue, 1, 'a single shared category');
  });
});

describe('numerical distances', () => {
  // wasserstein: scipy.stats.wasserstein_distance(a, b) / max(np.std(a), 0.001)
  // psi: edges = np.unique(np.quantile(a, np.arange(1, bins) / bins)); shares by np.searchsorted(edges, x, 'left');
  //      empty shares → eps; np.sum((c - r) * np.log(c / r))
  const cases = [
    { name: 'grid 300 vs 450 shift 0.08', reference: grid(300), current: grid(450, 1, 0.08), wasserstein: 0.27712966882456824, psi10: 0.16642167694699833, psi5: 0.0677838288309763 },
    { name: 'grid 2000 vs 3000 scale 1.3', reference: grid(2000), current: grid(3000, 1.3), wasserstein: 0.5196154996726945, psi10: 0.2886529152248391, psi5: 0.16924919592802287 },
    { name: 'stepped ties 2000 vs 1500', reference: stepped(2000, 20), current: stepped(1500, 20, 1.1), wasserstein: 0.173421993904824, psi10: 0.05694850953241652, psi5: 0.029443519161597154 },
    { name: 'small 5 vs 7 (empty bins)', reference: smallReference, current: smallCurrent, wasserstein: 1.0435583293891422, psi10: 8.061538719625606, psi5: 2.801852343632314 },
  ];
  const psi5 = psiWith({ bins: 5, epsilon: 1e-3 });
  for (const c of cases) {
    it(c.name, () => {
      assertClose(normalisedWasserstein(c.reference, c.current), c.wasserstein, 1e-9, 'normalised Wasserstein');
      assertClose(populationStabilityIndex(c.reference, c.current), c.psi10, 1e-9, 'PSI, 10 bins, eps 1e-4');
      assertClose(psi5.compare(c.reference, c.current).statistic, c.psi5, 1e-9, 'PSI, 5 bins, eps 1e-3');
    });
  }

  it('PSI is 0 for identical samples and drifts at or above its threshold', () => {
    assert.equal(populationStabilityIndex(grid(500), grid(500)), 0);
    const psi = driftMethod('psi');
    assert.equal(psi.compare(grid(300), grid(450, 1, 0.08), 0.1664).drifted, true);
    assert.equal(psi.compare(grid(300), grid(450, 1, 0.08), 0.17).drifted, false);
  });

  it('a constant reference is normalised by 0.001 rather than divided by zero', () => {
    assertClose(normalisedWasserstein([2, 2, 2], [2, 2, 3]), (1 / 3) / 0.001, 1e-12);
  });
});

describe('method selection (Evidently-like table)', () => {
  const table: [Parameters<typeof chooseMethod>, string][] = [
    [['numerical', 1000, 6], 'ks'],
    [['numerical', 1000, 5], 'chisquare'],
    [['numerical', 50, 2], 'chisquare'],
    [['categorical', 1000, 40], 'chisquare'],
    [['numerical', 1001, 6], 'wasserstein'],
    [['numerical', 1001, 5], 'jensenshannon'],
    [['categorical', 1001, 3], 'jensenshannon'],
  ];
  for (const [args, expected] of table) {
    it(`${args[0]}, ${args[1]} reference rows, ${args[2]} distinct values → ${expected}`, () => assert.equal(chooseMethod(...args).name, expected));
  }

  it('every registered method applies to the kinds it claims and has a distinct name', () => {
    const names = Object.keys(driftMethods);
    assert.deepEqual(names.sort(), ['chisquare', 'jensenshannon', 'ks', 'linf', 'linf_robust', 'psi', 'wasserstein']);
    for (const method of Object.values(driftMethods)) {
      for (const kind of method.appliesTo) {
        // Category-based methods see numbers as categories, so give them few distinct values.
        const numbers = method.name === 'chisquare' || method.name === 'jensenshannon' ? [stepped(50, 4), stepped(60, 4, 0.9, 0.05)] : [grid(50), grid(60, 1, 0.02)];
        const [reference, current] = kind === 'numerical' ? numbers : [['a', 'b', 'a'], ['a', 'b', 'b']];
        const result = method.compare(reference, current);
        assert.ok(Number.isFinite(result.statistic), `${method.name} on ${kind}`);
        assert.equal(result.threshold, method.defaultThreshold);
        assert.equal(result.pValue === undefined, method.yields === 'distance');
      }
    }
  });

  it('refuses an unknown method or one that does not fit the feature', () => {
    assert.throws(() => driftMethod('anderson'), /unknown drift method "anderson"/);
    assert.throws(() => driftMethod('ks', 'categorical'), /does not apply to categorical/);
  });
});

describe('compareDatasets', () => {
  const options: DriftOptions = { pValueThreshold: 0.05, psiThreshold: 0.25, driftShare: 0.5, minSamples: 100 };
  const features = [
    { name: 'age', type: 'numerical' as const },
    { name: 'income', type: 'numerical' as const },
    { name: 'region', type: 'categorical' as const },
  ];
  const region = (n: number, shareOfNorth: number) => Array.from({ length: n }, (_, k) => (k < n * shareOfNorth ? 'north' : 'south'));
  const reference = { age: grid(500, 60, 20), income: grid(500, 1e5), region: region(500, 0.5) };

  it('drifts when at least driftShare of the features drift, and says which', () => {
    const current = { age: grid(400, 60, 30), income: grid(400, 1e5, 2e4), region: region(400, 0.5) };
    const report = compareDatasets({ features, reference, current, options });
    assert.equal(report.verdict, 'drift');
    assert.deepEqual(report.driftedFeatures, ['age', 'income']);
    assertClose(report.score, 2 / 3, 1e-15);
    assert.deepEqual(
      report.features.map((f) => [f.name, f.method, f.threshold]),
      [
        ['age', 'ks', 0.05],
        ['income', 'ks', 0.05],
        ['region', 'chisquare', 0.05],
      ],
    );
    assert.equal(report.referenceCount, 500);
    assert.equal(report.currentCount, 400);
  });

  it('reports no drift when the shares hold', () => {
    const current = { age: grid(400, 60, 20), income: grid(400, 1e5), region: region(400, 0.5) };
    const report = compareDatasets({ features, reference, current, options });
    assert.equal(report.verdict, 'no_drift');
    assert.equal(report.score, 0);
    assert.deepEqual(report.driftedFeatures, []);
  });

  it('is insufficient_data below minSamples current rows, never no_drift', () => {
    const current = { age: grid(99, 60, 20), income: grid(99, 1e5), region: region(99, 0.5) };
    const report = compareDatasets({ features, reference, current, options });
    assert.equal(report.verdict, 'insufficient_data');
    assert.ok(report.features.every((f) => f.insufficientData && !f.drifted && Number.isNaN(f.statistic)));
  });

  it('excludes non-finite and empty values as missing, counts them, and reads numeric strings', () => {
    const age = [...grid(150, 60, 20), NaN, Infinity, -Infinity, '', ' ', '37.5', 'n/a'];
    const current = { age, income: grid(157, 1e5), region: [...region(150, 0.5), 'north', '', 'south', 'north', 'south', 'west', NaN] };
    const report = compareDatasets({ features, reference, current, options });
    const ageDrift = report.features.find((f) => f.name === 'age')!;
    assert.equal(ageDrift.currentCount, 151, '150 grid values + "37.5"');
    assert.equal(ageDrift.missingCount, 6);
    assert.equal(ageDrift.referenceMissingCount, 0);
    const regionDrift = report.features.find((f) => f.name === 'region')!;
    assert.equal(regionDrift.missingCount, 2);
    assert.deepEqual(regionDrift.unseenCategories, ['west']);
    assert.equal(regionDrift.statistic, Infinity);
    assert.equal(regionDrift.drifted, true);
  });

  it('leaves a feature with too few usable values out of the score instead of calling it stable', () => {
    const current = { age: Array<number>(300).fill(NaN), income: grid(300, 1e5), region: region(300, 0.5) };
    const report = compareDatasets({ features, reference, current, options });
    const age = report.features.find((f) => f.name === 'age')!;
    assert.equal(age.insufficientData, true);
    assert.equal(age.missingCount, 300);
    assert.equal(report.verdict, 'no_drift');
    assert.equal(report.score, 0);
  });

  it('uses distances for large references, and per-feature overrides with the options’ PSI threshold', () => {
    const largeReference = { age: grid(2000, 60, 20), income: grid(2000, 1e5), region: region(2000, 0.5) };
    const current = { age: grid(500, 60, 20), income: grid(500, 1.3e5), region: region(500, 0.8) };
    const report = compareDatasets({
      features: [features[0]!, { ...features[1]!, method: 'psi' }, { ...features[2]!, method: 'linf_robust', threshold: 0.2 }],
      reference: largeReference,
      current,
      options,
    });
    assert.deepEqual(
      report.features.map((f) => [f.name, f.method, f.threshold, f.drifted]),
      [
        ['age', 'wasserstein', 0.1, false],
        ['income', 'psi', 0.25, true],
        ['region', 'linf_robust', 0.2, true],
      ],
    );
    assert.equal(report.verdict, 'drift');
  });

  it('names a feature missing from a sample as a missing_column finding, left out of the score', () => {
    const current = { age: grid(400, 60, 30), income: grid(400, 1e5, 2e4) };
    const report = compareDatasets({ features, reference, current, options });
    const region = report.features.find((f) => f.name === 'region')!;
    assert.equal(region.verdict, 'missing_column');
    assert.equal(region.missingFrom, 'current');
    assert.match(region.note!, /feature "region" is missing from the current sample/);
    assert.equal(region.insufficientData, true);
    assert.deepEqual(report.driftedFeatures, ['age', 'income']);
    assert.equal(report.score, 1);
  });
});
