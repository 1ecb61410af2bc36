//! A per-client rate limit: one token bucket per client address, in memory.
//!
//! IPv6 clients are keyed by their /64 network, which one subscriber usually holds whole.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Buckets kept before full ones (idle clients) are forgotten.
const PRUNE_ABOVE: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Allows `per_hour` requests per client address per hour, all of them at once at most.
#[derive(Debug)]
pub struct RateLimiter {
    capacity: f64,
    per_second: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    /// A limit of `per_hour` requests per client per hour (at least one).
    #[must_use]
    pub fn per_hour(per_hour: u32) -> Self {
        let capacity = f64::from(per_hour.max(1));
        Self {
            capacity,
            per_second: capacity / 3600.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the client's bucket; `Err` holds how long to wait for the next.
    ///
    /// # Errors
    /// When the client has used up its requests.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let key = match client {
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(client, IpAddr::V4),
            IpAddr::V4(_) => client,
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() > PRUNE_ABOVE {
            let (capacity, rate) = (self.capacity, self.per_second);
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < capacity
            });
        }
        let b = buckets.entry(key).or_insert(Bucket {
            tokens: self.capacity,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.per_second).min(self.capacity);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / self.per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_client_has_its_own_bucket_that_refills_with_time() {
        let limit = RateLimiter::per_hour(2);
        let t0 = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        assert!(limit.check(a, t0).is_ok());
        assert!(limit.check(a, t0).is_ok());
        let wait = limit.check(a, t0).expect_err("third in the same instant");
        assert_eq!(wait.as_secs(), 1800, "one request every 30 minutes");
        assert!(limit.check(b, t0).is_ok(), "another client is not affected");
        assert!(limit.check(a, t0 + Duration::from_secs(1799)).is_err());
        assert!(limit.check(a, t0 + Duration::from_secs(1801)).is_ok());
    }

    #[test]
    fn ipv6_clients_share_their_64_network() {
        let limit = RateLimiter::per_hour(1);
        let t0 = Instant::now();
        assert!(
            limit
                .check("2001:db8:1:2::1".parse().expect("ip"), t0)
                .is_ok()
        );
        assert!(
            limit
                .check("2001:db8:1:2::ffff".parse().expect("ip"), t0)
                .is_err()
        );
        assert!(
            limit
                .check("2001:db8:1:3::1".parse().expect("ip"), t0)
                .is_ok()
        );
    }
}
