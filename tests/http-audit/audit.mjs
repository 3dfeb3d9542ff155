// Runs the GraphQL-over-HTTP server audits of the graphql-http package
// against a running jeugdregio and lists every audit that does not pass.
// Usage: node audit.mjs http://127.0.0.1:8080/graphql
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}
const results = await Promise.all(serverAudits({ url, fetchFn: fetch }).map((audit) => audit.fn()));
// 'error' is a failed MUST, 'warn' a failed SHOULD; 'notice' a MAY, listed only.
let failed = 0;
for (const result of results) {
  if (result.status !== 'ok') {
    failed += result.status === 'notice' ? 0 : 1;
    console.log(`${result.status.toUpperCase()} ${result.name}: ${result.reason}`);
  }
}
const musts = results.filter((r) => !r.name.startsWith('MAY')).length;
console.log(`${musts - failed} of ${musts} MUST and SHOULD audits pass`);
process.exit(failed === 0 ? 0 : 1);
