// aws-amplify 6.x: Amplify.configure + generateClient().graphql().subscribe().
import { Amplify } from 'aws-amplify';
import { generateClient } from 'aws-amplify/api';

export function subscribe({ url, apiKey, query, variables, next, error }) {
  Amplify.configure({
    API: {
      GraphQL: { endpoint: url, region: 'us-east-1', defaultAuthMode: 'apiKey', apiKey },
    },
  });
  const client = generateClient();
  const subscription = client.graphql({ query, variables }).subscribe({ next, error });
  return () => subscription.unsubscribe();
}
