// Starts the bundled GraphiQL (our own file; the others here are vendored).
// A file rather than an inline script, so the Content-Security-Policy needs no exception.
// Queries and mutations over HTTP, subscriptions over WebSocket (graphql-transport-ws).
const wsClient = graphqlWs.createClient({ url: location.origin.replace(/^http/, 'ws') + '/graphql/ws', lazy: true });
const fetcher = GraphiQL.createFetcher({ url: location.origin + '/graphql', wsClient });
const defaultQuery = [
  '# jeugdregio: the national registry of Dutch youth-care regions.',
  '# Press the run button; open the docs (book icon) to explore the schema.',
  '',
  '{',
  '  municipality(code: "GM0772") {',
  '    name',
  '    region { code name municipalities { code name } }',
  '    rolesHeld { kind cooperation { name } careForm { name } }',
  '  }',
  '}',
  '',
].join('\n');
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, { fetcher, defaultQuery, defaultEditorToolsVisibility: true })
);
