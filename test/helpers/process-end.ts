// Moved to src/devtools (the demo and the benchmark use them too); kept here for the tests' imports.
export * from '../../src/devtools/process-end.js';
