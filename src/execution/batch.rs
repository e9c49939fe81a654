//! Batching: sibling resolutions of one field whose requests a data source
//! can merge (Lambda's `BatchInvoke`) wait for each other and go out as
//! calls of at most `maxBatchSize` requests. This is AppSync's answer to
//! N+1: a list of 100 items costs 4 calls at `maxBatchSize: 25`.
//!
//! The first request to reach an empty queue leads: it yields to the
//! executor until the queue stops growing (its siblings are polled in the
//! same pass, so a list's items all arrive before it looks again), then
//! takes the queue, calls the data source per chunk, and hands each waiter
//! its own result. No timer is involved, so batching adds no latency.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use async_graphql::futures_util::future::join_all;
use serde_json::Value as Json;
use tokio::sync::oneshot;

use crate::datasource::{DataSourceError, InvocationInfo};
use crate::execution::resolver::BoundDataSource;
use crate::metrics::DataSourceCalls;

type Reply = oneshot::Sender<Result<Json, DataSourceError>>;

/// Where batched requests come from: one resolver or pipeline function,
/// identified by the address of its plan (stable for the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BatchSite(pub usize);

/// One request's batch queues, by site.
#[derive(Default)]
pub struct Batcher {
    queues: Mutex<HashMap<BatchSite, Vec<(Json, Reply)>>>,
}

/// What a leader needs to call the data source.
pub struct BatchCall<'a> {
    pub site: BatchSite,
    pub max_batch_size: usize,
    pub data_source: &'a BoundDataSource,
    pub info: InvocationInfo<'a>,
    pub calls: Option<&'a DataSourceCalls>,
}

impl Batcher {
    fn queued(&self, site: BatchSite) -> usize {
        self.queues
            .lock()
            .map(|q| q.get(&site).map_or(0, Vec::len))
            .unwrap_or(0)
    }

    /// Queues `request`; resolves to its own result once its batch ran.
    pub async fn submit(
        &self,
        call: BatchCall<'_>,
        request: Json,
    ) -> Result<Json, DataSourceError> {
        let (reply, result) = oneshot::channel();
        let leads = match self.queues.lock() {
            Ok(mut queues) => {
                let queue = queues.entry(call.site).or_default();
                queue.push((request, reply));
                queue.len() == 1
            }
            Err(_) => false,
        };
        if leads {
            let mut seen = 0;
            loop {
                let now = self.queued(call.site);
                if now == seen {
                    break;
                }
                seen = now;
                tokio::task::yield_now().await;
            }
            let batch = self
                .queues
                .lock()
                .ok()
                .and_then(|mut queues| queues.remove(&call.site))
                .unwrap_or_default();
            run(&call, batch).await;
        }
        result.await.unwrap_or_else(|_| {
            Err(DataSourceError::new(
                "InternalFailure",
                "the batch this request belonged to was abandoned",
            ))
        })
    }
}

async fn run(call: &BatchCall<'_>, batch: Vec<(Json, Reply)>) {
    let size = call.max_batch_size.max(1);
    let mut chunks = Vec::new();
    let mut batch = batch.into_iter().peekable();
    while batch.peek().is_some() {
        let (requests, replies): (Vec<Json>, Vec<Reply>) = batch.by_ref().take(size).unzip();
        chunks.push(async move {
            if let Some(calls) = call.calls {
                calls.started();
            }
            let started = Instant::now();
            let results = call
                .data_source
                .source
                .invoke_batch(requests, call.info)
                .await;
            if let Some(calls) = call.calls {
                calls.finished(started.elapsed());
            }
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        });
    }
    join_all(chunks).await;
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::datasource::DataSource;
    use crate::graphql::BoxFuture;

    /// Answers each request with its payload and the size of its batch.
    #[derive(Debug, Default)]
    struct Recorder {
        batches: AtomicUsize,
    }

    impl DataSource for Recorder {
        fn invoke<'a>(
            &'a self,
            request: Json,
            _info: InvocationInfo<'a>,
        ) -> BoxFuture<'a, Result<Json, DataSourceError>> {
            Box::pin(async move { Ok(request) })
        }

        fn invoke_batch<'a>(
            &'a self,
            requests: Vec<Json>,
            _info: InvocationInfo<'a>,
        ) -> BoxFuture<'a, Vec<Result<Json, DataSourceError>>> {
            self.batches.fetch_add(1, Ordering::SeqCst);
            let size = requests.len();
            Box::pin(async move {
                requests
                    .into_iter()
                    .map(|r| Ok(json!({"item": r, "batch": size})))
                    .collect()
            })
        }
    }

    #[tokio::test]
    async fn siblings_are_merged_into_chunks_of_max_batch_size() {
        let recorder = Arc::new(Recorder::default());
        let bound = BoundDataSource {
            name: "fn".into(),
            source: recorder.clone(),
        };
        let batcher = Batcher::default();
        let info = InvocationInfo {
            parent_type_name: "Flight",
            field_name: "weather",
        };
        let items = (0..100).map(|i| {
            let call = BatchCall {
                site: BatchSite(1),
                max_batch_size: 25,
                data_source: &bound,
                info,
                calls: None,
            };
            batcher.submit(call, json!(i))
        });
        let results = join_all(items).await;
        assert_eq!(recorder.batches.load(Ordering::SeqCst), 4);
        for (i, result) in results.into_iter().enumerate() {
            assert_eq!(result.unwrap(), json!({"item": i, "batch": 25}));
        }
    }
}
