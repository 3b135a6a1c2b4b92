// Runs once before all test files. Builds nothing: `npm test` builds dist/ before vitest runs.
export default function setup(): void {}
