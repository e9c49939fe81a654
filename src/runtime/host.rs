//! The world outside a resolver run: the clock and randomness.
//!
//! Architecture invariant: this file is the only place in a runtime that
//! reads the real clock or the operating system's randomness
//! (`tests/architecture.rs`).

/// The world outside a render: the clock and a source of randomness.
///
/// Runtimes read time and random bits only through a `Host`, so a render is a
/// function of its template, its context and its host: with a fixed clock
/// and a seeded generator ([`Host::seeded`]) every render gives the same
/// output. The server uses [`Host::system`].
///
/// A host may serve many renders (a pipeline's templates, a test's
/// repetitions); each render reads the clock once and keeps that instant.
pub struct Host {
    clock: Clock,
    entropy: Entropy,
}

enum Clock {
    System,
    Fixed(i64),
}

enum Entropy {
    /// `rand`'s thread-local generator, seeded by the operating system.
    System,
    /// Boxed: the generator's state is large and hosts move around.
    Seeded(Box<rand::rngs::StdRng>),
}

impl Host {
    /// The real clock and an operating-system-seeded generator.
    pub fn system() -> Host {
        Host {
            clock: Clock::System,
            entropy: Entropy::System,
        }
    }

    /// A fixed clock (milliseconds since the Unix epoch) and a generator
    /// seeded with `seed`: renders are reproducible.
    pub fn seeded(now_epoch_millis: i64, seed: u64) -> Host {
        Host::system()
            .with_fixed_clock(now_epoch_millis)
            .with_seed(seed)
    }

    /// This host with its clock stopped at `now_epoch_millis`.
    pub fn with_fixed_clock(mut self, now_epoch_millis: i64) -> Host {
        self.clock = Clock::Fixed(now_epoch_millis);
        self
    }

    /// This host with a generator seeded with `seed`. The sequence is stable
    /// for a given `rand` release (`StdRng`), not across upgrades.
    pub fn with_seed(mut self, seed: u64) -> Host {
        self.entropy = Entropy::Seeded(Box::new(rand::SeedableRng::seed_from_u64(seed)));
        self
    }

    /// The current time, milliseconds since the Unix epoch.
    pub fn now_epoch_millis(&self) -> i64 {
        match self.clock {
            Clock::System => chrono::Utc::now().timestamp_millis(),
            Clock::Fixed(now) => now,
        }
    }

    /// A uniformly distributed double in `[0, 1)` (`Math.random()`).
    pub fn random_f64(&mut self) -> f64 {
        rand::RngExt::random(self)
    }

    /// A uniformly distributed integer in `lo..=hi`; `None` when `lo > hi`.
    pub fn random_in_range(&mut self, lo: i64, hi: i64) -> Option<i64> {
        (lo <= hi).then(|| rand::RngExt::random_range(self, lo..=hi))
    }

    /// A version 4 UUID (`$util.autoId()`).
    pub fn uuid_v4(&mut self) -> uuid::Uuid {
        let mut bytes = [0u8; 16];
        rand::Rng::fill_bytes(self, &mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// A ULID for the instant `now_epoch_millis` (`$util.autoUlid()`).
    pub fn ulid(&mut self, now_epoch_millis: i64) -> ulid::Ulid {
        let ms = u64::try_from(now_epoch_millis).unwrap_or(0);
        ulid::Ulid::from_parts(ms, rand::RngExt::random::<u128>(self))
    }

    /// A KSUID for the instant `now_epoch_millis` (`$util.autoKsuid()`).
    pub fn ksuid(&mut self, now_epoch_millis: i64) -> String {
        let mut payload = [0u8; 16];
        rand::Rng::fill_bytes(self, &mut payload);
        ksuid(now_epoch_millis, payload)
    }
}

impl Default for Host {
    fn default() -> Self {
        Host::system()
    }
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let clock = match self.clock {
            Clock::System => "system".to_owned(),
            Clock::Fixed(now) => format!("fixed at {now}"),
        };
        let entropy = match self.entropy {
            Entropy::System => "system",
            Entropy::Seeded(_) => "seeded",
        };
        f.debug_struct("Host")
            .field("clock", &clock)
            .field("entropy", &entropy)
            .finish()
    }
}

/// Random bits come from the host's generator, so `rand`'s distributions
/// (`rand::RngExt`) work on a host directly.
impl rand::TryRng for Host {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(match &mut self.entropy {
            Entropy::System => rand::Rng::next_u32(&mut rand::rng()),
            Entropy::Seeded(rng) => rand::Rng::next_u32(rng.as_mut()),
        })
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(match &mut self.entropy {
            Entropy::System => rand::Rng::next_u64(&mut rand::rng()),
            Entropy::Seeded(rng) => rand::Rng::next_u64(rng.as_mut()),
        })
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        match &mut self.entropy {
            Entropy::System => rand::Rng::fill_bytes(&mut rand::rng(), dst),
            Entropy::Seeded(rng) => rand::Rng::fill_bytes(rng.as_mut(), dst),
        }
        Ok(())
    }
}

/// A KSUID: 4 bytes of seconds since 2014-05-13T16:53:20Z, 16 random bytes,
/// base62 (`0-9A-Za-z`) padded to 27 characters.
pub(crate) fn ksuid(now_epoch_millis: i64, payload: [u8; 16]) -> String {
    const EPOCH: i64 = 1_400_000_000;
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let secs = (now_epoch_millis.div_euclid(1000) - EPOCH).clamp(0, u32::MAX as i64) as u32;
    let mut bytes = [0u8; 20];
    bytes[..4].copy_from_slice(&secs.to_be_bytes());
    bytes[4..].copy_from_slice(&payload);
    // Long division of the 160-bit big-endian number by 62.
    let mut digits = Vec::with_capacity(27);
    let mut num: Vec<u32> = bytes.iter().map(|&b| u32::from(b)).collect();
    while num.iter().any(|&d| d != 0) {
        let mut rem = 0u32;
        for d in num.iter_mut() {
            let acc = rem * 256 + *d;
            *d = acc / 62;
            rem = acc % 62;
        }
        digits.push(ALPHABET[rem as usize]);
    }
    while digits.len() < 27 {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8_lossy(&digits).into_owned()
}
