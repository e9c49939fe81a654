//! DynamoDB-compatible tables on sled.
