// Distributions of the Kolmogorov–Smirnov statistic, chosen region by region the way
// scipy.stats.ks_2samp(method='auto') chooses them, so a p-value here is the p-value a data scientist
// gets from scipy for the same samples:
//   - both samples ≤ 10,000: the exact two-sample distribution (lattice paths, Hodges 1958);
//   - otherwise: the one-sample two-sided distribution at n = round(n1·n2/(n1+n2)) (half to even),
//     evaluated with the algorithm Simard & L'Ecuyer (2011) recommend for that (n, d) region.
import { logGamma, stirlingCorrection } from './gamma';

/** Beyond this many values on either side scipy stops computing the exact distribution. */
export const EXACT_MAX_SAMPLE_SIZE = 10_000;

export function greatestCommonDivisor(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** numpy's round(): halves go to the even neighbour (5000.5 → 5000), unlike Math.round. */
export function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * P(D ≥ h/lcm(n1, n2)) for the two-sided two-sample statistic under H0, exactly.
 * `h` is the statistic in units of 1/lcm(n1, n2), so it is an integer and the boundary test is exact.
 */
export function twoSampleExactSurvival(n1: number, n2: number, h: number): number {
  if (h <= 0) return 1;
  if (n1 === n2) return equalSizeSurvival(n1, h);
  return latticeBoundaryProbability(n1, n2, h);
}

/**
 * Equal sizes: reflection gives P = 2 Σ_{k≥1} (−1)^{k+1} C(2n, n−kh) / C(2n, n).
 * Each ratio is built as a product of h factors per k (no huge binomials), and the alternating sum runs
 * from the smallest term up so the leading terms absorb the rounding.
 */
function equalSizeSurvival(n: number, h: number): number {
  const ratios: number[] = [];
  let ratio = 1;
  for (let k = 1; k * h <= n; k++) {
    for (let j = (k - 1) * h; j < k * h; j++) ratio *= (n - j) / (n + 1 + j);
    ratios.push(ratio);
  }
  let sum = 0;
  for (let k = ratios.length; k >= 1; k--) sum += (k % 2 === 1 ? 1 : -1) * ratios[k - 1];
  return clampProbability(2 * sum);
}

/**
 * Unequal sizes: a uniformly random monotone path from (0,0) to (n1,n2) is the merged order of the two
 * samples under H0. Push its probability mass forward through the band |i/n1 − j/n2| < d and add up the
 * mass that steps onto the boundary. Summing the absorbed mass directly (rather than 1 − mass that stays
 * inside) keeps small p-values accurate.
 */
const MIN_NORMAL = 2.2250738585072014e-308;

function latticeBoundaryProbability(n1: number, n2: number, h: number): number {
  const g = greatestCommonDivisor(n1, n2);
  const step1 = n2 / g; // lcm / n1: one more value from sample 1 moves the scaled gap up by this
  const step2 = n1 / g; // lcm / n2
  const total = n1 + n2;
  // Inside at row i: i·step1 − h < j·step2 < i·step1 + h.
  const lowest = (i: number) => Math.max(0, Math.floor((i * step1 - h) / step2) + 1);
  const highest = (i: number) => Math.min(n2, Math.ceil((i * step1 + h) / step2) - 1);

  // Each row keeps, per j, the mass leaving (i, j) toward (i+1, j), which is exactly what row i+1 receives.
  let previousOutflow = new Float64Array(n2 + 1);
  let outflow = new Float64Array(n2 + 1);
  // Far from the diagonal a heavily drifted comparison carries mass below the smallest normal double;
  // flushing it to 0 (at most 1e8 points × 2.2e-308 lost, invisible for any p above 1e-290) lets each
  // row visit only where mass remains and keeps subnormal arithmetic out of the loop.
  let previousLow = 0;
  let previousHigh = 0;
  let absorbed = 0;
  // The division by the number of values still to come sits on the loop's dependency chain; a table of
  // reciprocals turns it into a multiplication.
  const reciprocal = new Float64Array(total + 1);
  for (let r = 1; r <= total; r++) reciprocal[r] = 1 / r;

  for (let i = 0; i <= n1; i++) {
    const low = lowest(i);
    const high = highest(i);
    if (low > high) break; // the band is closed: every path has already been absorbed
    const nextLow = i < n1 ? lowest(i + 1) : 0;
    const nextHigh = i < n1 ? highest(i + 1) : -1;
    const left1 = n1 - i;
    let rowLow = -1;
    let rowHigh = -1;
    let below = 0; // mass leaving (i, j−1) toward (i, j)
    for (let j = Math.max(low, previousLow); j <= high; j++) {
      let mass = below;
      if (i === 0) mass = j === 0 ? 1 : below;
      else if (j <= previousHigh) mass += previousOutflow[j];
      if (mass < MIN_NORMAL) {
        if (j > previousHigh) break; // nothing further right can receive mass
        outflow[j] = 0;
        below = 0;
        continue;
      }
      if (rowLow < 0) rowLow = j;
      rowHigh = j;
      const share = mass * reciprocal[total - i - j]; // at (n1, n2) the path ends: 1/0 is stored as 0
      const toward1 = i < n1 ? share * left1 : 0;
      const toward2 = j < n2 ? share * (n2 - j) : 0;
      if (j < nextLow || j > nextHigh) {
        absorbed += toward1;
        outflow[j] = 0;
      } else {
        outflow[j] = toward1;
      }
      if (j + 1 > high) absorbed += toward2;
      below = toward2;
    }
    if (rowLow < 0) break; // all remaining mass has underflowed
    [previousOutflow, outflow] = [outflow, previousOutflow];
    previousLow = rowLow;
    previousHigh = rowHigh;
  }
  return clampProbability(absorbed);
}

/**
 * P(D_n ≥ x) for the two-sided one-sample statistic (scipy.stats.kstwo.sf), using the method
 * Simard & L'Ecuyer assign to the region of (n, x) — the same regions scipy uses, so approximations
 * agree where scipy approximates and exact algorithms agree where it is exact.
 */
export function oneSampleSurvival(n: number, x: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`sample size must be a positive integer, got ${n}`);
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    // Ruben–Gambino: for 1/2n ≤ x ≤ 1/n the CDF is n!/n^n (2t − 1)^n.
    if (t <= 0.5) return 1;
    return clampProbability(1 - Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1)));
  }
  if (t >= n - 1) return clampProbability(2 * Math.pow(1 - x, n));
  // From x ≥ 0.5 the events D+ ≥ x and D− ≥ x are disjoint, so doubling the one-sided tail is exact.
  if (x >= 0.5) return clampProbability(2 * smirnovSurvival(n, x));

  const nxSquared = t * x;
  if (n <= 140) {
    // Durbin's matrix is exact here (scipy switches to Pomeranz above 0.754693; both are exact).
    if (nxSquared <= 4) return clampProbability(1 - durbinCdf(n, x));
    return clampProbability(2 * smirnovSurvival(n, x)); // Miller's approximation, as scipy
  }
  if (nxSquared >= 370) return 0;
  if (nxSquared >= 2.2) return clampProbability(2 * smirnovSurvival(n, x));
  if (n <= 100_000 && n * Math.pow(x, 1.5) <= 1.4) return clampProbability(1 - durbinCdf(n, x));
  return clampProbability(pelzGoodSurvival(n, x));
}

/** ln(n!/nⁿ), without forming either. */
function logFactorialOverPower(n: number): number {
  if (n < 15) return logGamma(n + 1) - n * Math.log(n);
  // n!/nⁿ = (n−1)!/nⁿ⁻¹; Stirling for ln (n−1)! cancels the n ln n analytically.
  return 0.5 * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI) + stirlingCorrection(n);
}

/**
 * One-sided tail P(D_n⁺ ≥ x) (scipy.special.smirnov), by the Birnbaum–Tingey sum
 *   x Σ_{j=0}^{⌊n(1−x)⌋} C(n,j) (1 − x − j/n)^{n−j} (x + j/n)^{j−1},
 * all of whose terms are positive, so summing them in log space is accurate.
 */
export function smirnovSurvival(n: number, x: number): number {
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const nx = n * x;
  const logX = Math.log(x);
  const logN = Math.log(n);
  const logTerms: number[] = [];
  // ln C(n, j), accumulated with compensation: for large n it is the term with the largest magnitude.
  let logBinomial = 0;
  let compensation = 0;
  for (let j = 0; j <= n; j++) {
    if (j > 0) {
      const increment = Math.log((n - j + 1) / j) - compensation;
      const next = logBinomial + increment;
      compensation = next - logBinomial - increment;
      logBinomial = next;
    }
    const rest = n - j - nx; // n(1 − x − j/n)
    if (rest < 0) break;
    if (rest === 0 && n - j > 0) break; // 0^(n−j): the term and every later one vanish
    const restTerm = n - j === 0 ? 0 : (n - j) * (Math.log(rest) - logN);
    logTerms.push(logX + logBinomial + restTerm + (j - 1) * (Math.log(nx + j) - logN));
  }
  return Math.min(1, sumOfExponentials(logTerms));
}

function sumOfExponentials(logTerms: number[]): number {
  if (logTerms.length === 0) return 0;
  let largest = -Infinity;
  for (const l of logTerms) if (l > largest) largest = l;
  if (largest === -Infinity) return 0;
  let sum = 0;
  for (const l of logTerms) sum += Math.exp(l - largest);
  return sum * Math.exp(largest);
}

/**
 * P(D_n < x) by Durbin's matrix in the Marsaglia–Tsang–Wang formulation: with k = ⌊nx⌋ + 1,
 * h = k − nx and an m×m matrix H (m = 2k − 1), the CDF is n!/nⁿ · (Hⁿ)[k−1][k−1]. Powers are kept
 * as (matrix, binary exponent) so neither overflows.
 */
export function durbinCdf(n: number, x: number): number {
  const k = Math.floor(n * x) + 1;
  const m = 2 * k - 1;
  const h = k - n * x;
  const base = new Float64Array(m * m);
  const inverseFactorial = [1];
  for (let i = 1; i <= m; i++) inverseFactorial.push(inverseFactorial[i - 1] / i);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      if (i - j + 1 >= 0) base[i * m + j] = inverseFactorial[i - j + 1];
    }
  }
  for (let i = 0; i < m; i++) {
    base[i * m] -= Math.pow(h, i + 1) * inverseFactorial[i + 1];
    base[(m - 1) * m + i] -= Math.pow(h, m - i) * inverseFactorial[m - i];
  }
  if (2 * h - 1 > 0) base[(m - 1) * m] += Math.pow(2 * h - 1, m) * inverseFactorial[m];

  const power = scaledMatrixPower({ values: base, exponent: 0 }, n, m);
  const entry = power.values[(k - 1) * m + (k - 1)];
  if (entry <= 0) return 0;
  return clampProbability(Math.exp(Math.log(entry) + power.exponent * Math.LN2 + logFactorialOverPower(n)));
}

interface ScaledMatrix {
  values: Float64Array;
  exponent: number; // the matrix is values · 2^exponent
}

function scaledMatrixPower(base: ScaledMatrix, power: number, m: number): ScaledMatrix {
  let result: ScaledMatrix | null = null;
  let square = base;
  let remaining = power;
  while (remaining > 0) {
    if (remaining % 2 === 1) result = result === null ? square : multiplyScaled(result, square, m);
    remaining = Math.floor(remaining / 2);
    if (remaining > 0) square = multiplyScaled(square, square, m);
  }
  return result ?? base;
}

function multiplyScaled(a: ScaledMatrix, b: ScaledMatrix, m: number): ScaledMatrix {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < m; l++) {
      const ail = a.values[i * m + l];
      if (ail === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] += ail * b.values[l * m + j];
    }
  }
  let largest = 0;
  for (const v of out) largest = Math.max(largest, Math.abs(v));
  // Rescale by a power of two (exact) so the largest entry is near 1.
  const shift = largest > 0 ? Math.round(Math.log2(largest)) : 0;
  if (shift !== 0) {
    const factor = Math.pow(2, -shift);
    for (let i = 0; i < out.length; i++) out[i] *= factor;
  }
  return { values: out, exponent: a.exponent + b.exponent + shift };
}

/**
 * Pelz & Good's (1976) expansion of P(D_n ≥ x), 1 − [K0(z) + K1(z)/√n + K2(z)/n + K3(z)/n^{3/2}] with
 * z = x√n, in the small-z form given by Simard & L'Ecuyer (2011), eq. for K0..K3. scipy uses it for
 * large n and moderate x, where the exact algorithms get too slow; its error is O(n⁻²).
 */
export function pelzGoodSurvival(n: number, x: number): number {
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const pi2 = Math.PI * Math.PI;
  if (pi2 / (8 * z2) > 708) return 1; // every term underflows: the CDF is 0
  const sqrt2pi = Math.sqrt(2 * Math.PI);

  // Sums over half-integers u = k − ½, weight exp(−π²u²/(2z²)).
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let k = 1; k < 1000; k++) {
    const u2 = (k - 0.5) * (k - 0.5);
    const w = Math.exp((-pi2 * u2) / (2 * z2));
    if (w === 0) break;
    const pu2 = pi2 * u2;
    s0 += w;
    s1 += (pu2 - z2) * w;
    s2 += (6 * z2 ** 3 + 2 * z2 ** 2 + pu2 * (2 * z2 ** 2 - 5 * z2) + pu2 * pu2 * (1 - 2 * z2)) * w;
    s3 +=
      (-30 * z2 ** 3 - 90 * z2 ** 4 + pu2 * (135 * z2 ** 2 - 96 * z2 ** 3) + pu2 ** 2 * (212 * z2 ** 2 - 60 * z2) + pu2 ** 3 * (5 - 30 * z2)) * w;
  }
  // Sums over integers k, weight exp(−π²k²/(2z²)).
  let t2 = 0;
  let t3 = 0;
  for (let k = 1; k < 1000; k++) {
    const pk2 = pi2 * k * k;
    const w = Math.exp(-pk2 / (2 * z2));
    if (w === 0) break;
    t2 += pk2 * w;
    t3 += (3 * z2 - pk2) * pk2 * w;
  }
  const k0 = (sqrt2pi / z) * s0;
  const k1 = (sqrt2pi / (6 * z2 * z2)) * s1;
  const k2 = (sqrt2pi / (72 * z2 ** 3 * z)) * s2 - (sqrt2pi / (36 * z2 * z)) * t2;
  const k3 = (sqrt2pi / (6480 * z2 ** 5)) * s3 + (sqrt2pi / (216 * z2 ** 3)) * t3;
  const rootN = Math.sqrt(n);
  return 1 - k0 - k1 / rootN - k2 / n - k3 / (n * rootN);
}

function clampProbability(p: number): number {
  if (Number.isNaN(p)) return p;
  return Math.min(1, Math.max(0, p));
}
