// aws-appsync-subscription-link 4.x + @apollo/client 4.x (ESM, rxjs observables).
import { ApolloClient, InMemoryCache, gql } from '@apollo/client';
import { createSubscriptionHandshakeLink } from 'aws-appsync-subscription-link';

export function subscribe({ url, apiKey, query, variables, next, error }) {
  const link = createSubscriptionHandshakeLink({
    url,
    region: 'us-east-1',
    auth: { type: 'API_KEY', apiKey },
  });
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  const subscription = client.subscribe({ query: gql(query), variables }).subscribe({
    // Apollo 4 reports GraphQL errors as a result with an `error` field.
    next: (result) => (result && result.error ? error(result.error) : next(result)),
    error,
  });
  return () => subscription.unsubscribe();
}
