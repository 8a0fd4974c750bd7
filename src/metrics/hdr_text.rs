//! Histograms as text, in HdrHistogram's standard form: the V2 compressed encoding in base64
//! (what HdrHistogram's interval logs hold, readable by its Java, C, Go and Python ports). A
//! load test's shard writes its histograms so, and the merge adds the decoded counts: merged
//! percentiles are those of all the values recorded, not a blend of the shards' percentiles.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer as SerdeDeserializer, Serializer as SerdeSerializer};

/// `hist` in the V2 compressed encoding, base64.
pub fn encode(hist: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    // Serializing into memory fails only for histograms the encoding cannot hold (none here).
    let _ = V2DeflateSerializer::new().serialize(hist, &mut bytes);
    STANDARD.encode(bytes)
}

/// The histogram `text` encodes ([`encode`]); `Err` says why it is not one.
pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|e| format!("a histogram is not base64 ({e})"))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("a histogram is not in HdrHistogram's V2 encoding ({e:?})"))
}

/// Serde `with` functions for a `Histogram<u64>` field.
pub mod serde_text {
    use super::*;

    /// Writes the histogram as [`encode`] text.
    pub fn serialize<S: SerdeSerializer>(hist: &Histogram<u64>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(hist))
    }

    /// Reads [`encode`] text.
    pub fn deserialize<'de, D: SerdeDeserializer<'de>>(d: D) -> Result<Histogram<u64>, D::Error> {
        let text = String::deserialize(d)?;
        decode(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_survive_the_text_form_with_every_count() {
        let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).unwrap();
        for v in [1, 7, 250, 250, 31_000, 599_999_999] {
            hist.record(v).unwrap();
        }
        let back = decode(&encode(&hist)).unwrap();
        assert_eq!(back.len(), 6);
        for q in [0.0, 0.25, 0.5, 0.9, 1.0] {
            assert_eq!(back.value_at_quantile(q), hist.value_at_quantile(q));
        }
        assert_eq!(back.count_at(250), 2);
        assert!(decode("not base64!").unwrap_err().contains("base64"));
        assert!(decode("aGVsbG8=").unwrap_err().contains("V2"));
    }
}
