/** Gradient methods, registered once their implementations exist. */
import type { AttributionMethod } from './method';

export const gradientMethods: readonly AttributionMethod[] = [];
