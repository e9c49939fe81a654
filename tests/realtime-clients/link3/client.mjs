// aws-appsync-subscription-link 3.x + @apollo/client 3.x.
// Both are loaded through require(): the link is CommonJS and requires
// '@apollo/client/core', so the client must use the same (CJS) Apollo copy.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { ApolloClient, InMemoryCache, gql } = require('@apollo/client/core');
const { createSubscriptionHandshakeLink } = require('aws-appsync-subscription-link');

export function subscribe({ url, apiKey, query, variables, next, error }) {
  const link = createSubscriptionHandshakeLink({
    url,
    region: 'us-east-1',
    auth: { type: 'API_KEY', apiKey },
  });
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  const subscription = client.subscribe({ query: gql(query), variables }).subscribe({ next, error });
  return () => subscription.unsubscribe();
}
