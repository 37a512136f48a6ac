import { BaseSequencer, type TestSpecification } from "vitest/node";

/** The project whose files run one at a time (test/faults/one-at-a-time.ts), beside the others. */
export const faultsProject = "faults";

/**
 * The fault suites mostly wait (on retry timers, restarted servers, killed workers), so they run
 * beside the main files instead of after them with one core idle; they still run one at a time (a
 * lock, test/faults/one-at-a-time.ts). A worker that picks a fault file while another is running
 * waits for the lock, so the fault files are spread through the first two thirds of the list,
 * where each has main files to run beside it, rather than queued together.
 */
export default class SpreadFaults extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const faults = sorted.filter((spec) => spec.project.name === faultsProject);
    const others = sorted.filter((spec) => spec.project.name !== faultsProject);
    if (faults.length === 0 || others.length === 0) return sorted;
    const gap = Math.max(1, Math.floor((others.length * 2) / 3 / faults.length));
    const order: TestSpecification[] = [];
    others.forEach((spec, i) => {
      if (i % gap === 0 && faults.length > 0) order.push(faults.shift() as TestSpecification);
      order.push(spec);
    });
    return [...order, ...faults];
  }
}
