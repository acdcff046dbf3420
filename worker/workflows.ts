// This worker's workflows module. A TypeScript plugin cannot inject workflows, so a user's worker
// re-exports the plugin's sandbox-safe entry exactly like this (plus any workflows of their own).
export * from '../workflows';
