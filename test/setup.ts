import fc from "fast-check";

// Property tests explore fresh inputs on every local run (fast-check prints the seed of any
// failure, so it can be replayed). CI replays one fixed seed, so a submission's result does not
// depend on the luck of the draw.
if (process.env.CI) fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261129) });
