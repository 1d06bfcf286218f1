/**
 * Nelder–Mead downhill simplex (Nelder & Mead 1965, with the standard coefficients: reflection
 * 1, expansion 2, contraction ½, shrink ½), minimizing an unconstrained function. Callers keep
 * their parameters in range by transforming them (see garch.ts). A non-finite objective value
 * is treated as +Infinity, so the simplex walks away from it.
 */
export type Minimum = { readonly x: readonly number[]; readonly value: number; readonly iterations: number; readonly converged: boolean };

export type NelderMeadOptions = {
  /** Initial step along each axis. */
  readonly step?: number;
  readonly maxIterations?: number;
  /** Stop when the spread of the simplex's values falls below this. */
  readonly tolerance?: number;
};

export function nelderMead(f: (x: readonly number[]) => number, start: readonly number[], options: NelderMeadOptions = {}): Minimum {
  const { step = 0.5, maxIterations = 1_000, tolerance = 1e-10 } = options;
  const n = start.length;
  const objective = (x: readonly number[]) => {
    const value = f(x);
    return Number.isFinite(value) ? value : Infinity;
  };
  let simplex: { x: number[]; value: number }[] = [{ x: [...start], value: objective(start) }];
  for (let i = 0; i < n; i++) {
    const x = [...start];
    x[i]! += step;
    simplex.push({ x, value: objective(x) });
  }
  const along = (from: readonly number[], to: readonly number[], t: number) => from.map((a, i) => a + t * (to[i]! - a));
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    simplex.sort((a, b) => a.value - b.value);
    const best = simplex[0]!, worst = simplex[n]!, secondWorst = simplex[n - 1]!;
    if (Math.abs(worst.value - best.value) <= tolerance * (Math.abs(best.value) + tolerance)) {
      converged = true;
      break;
    }
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j]! += simplex[i]!.x[j]! / n;
    const reflected = along(centroid, worst.x, -1);
    const reflectedValue = objective(reflected);
    if (reflectedValue < best.value) {
      const expanded = along(centroid, worst.x, -2);
      const expandedValue = objective(expanded);
      simplex[n] = expandedValue < reflectedValue ? { x: expanded, value: expandedValue } : { x: reflected, value: reflectedValue };
    } else if (reflectedValue < secondWorst.value) {
      simplex[n] = { x: reflected, value: reflectedValue };
    } else {
      const outside = reflectedValue < worst.value;
      const contracted = along(centroid, outside ? reflected : worst.x, 0.5);
      const contractedValue = objective(contracted);
      if (contractedValue < (outside ? reflectedValue : worst.value)) {
        simplex[n] = { x: contracted, value: contractedValue };
      } else {
        simplex = simplex.map((vertex, i) => {
          if (i === 0) return vertex;
          const x = along(best.x, vertex.x, 0.5);
          return { x, value: objective(x) };
        });
      }
    }
  }
  simplex.sort((a, b) => a.value - b.value);
  return { x: simplex[0]!.x, value: simplex[0]!.value, iterations, converged };
}
