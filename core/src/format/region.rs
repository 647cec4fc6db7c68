//! The only memory an inspector keeps: fixed windows of the stream, copied
//! while the bytes pass and never grown past their declared length.

/// A window `[offset, offset + len)` of the stream, captured as it passes.
#[derive(Debug, Clone)]
pub(crate) struct Region {
    offset: u64,
    len: usize,
    /// Complete with this much once the stream has ended (a short file).
    min_len: Option<usize>,
    data: Vec<u8>,
    ended: bool,
}

impl Region {
    pub fn new(offset: u64, len: usize) -> Self {
        Self {
            offset,
            len,
            min_len: None,
            data: Vec::new(),
            ended: false,
        }
    }

    /// A window that also counts as complete when the stream ends after at
    /// least `min_len` of its bytes.
    pub fn at_least(offset: u64, len: usize, min_len: usize) -> Self {
        Self {
            min_len: Some(min_len),
            ..Self::new(offset, len)
        }
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn complete(&self) -> bool {
        self.data.len() >= self.len
            || (self.ended && self.min_len.is_some_and(|m| self.data.len() >= m))
    }

    /// Still waiting for bytes that may yet come.
    pub fn wants(&self) -> bool {
        !self.ended && self.data.len() < self.len
    }

    /// Stop capturing: what is held so far is all this region gets.
    pub fn truncate_here(&mut self) {
        self.len = self.data.len();
    }

    /// Take the part of `chunk` (which starts at stream position `pos`) that
    /// continues this window. A window whose start has already passed stays
    /// incomplete: the bytes it needed are gone.
    pub fn capture(&mut self, pos: u64, chunk: &[u8]) {
        if !self.wants() {
            return;
        }
        let next = self.offset + self.data.len() as u64;
        let end = pos + chunk.len() as u64;
        if next < pos || next >= end {
            return;
        }
        let from = (next - pos) as usize;
        let take = (self.len - self.data.len()).min(chunk.len() - from);
        self.data.extend_from_slice(&chunk[from..from + take]);
    }

    pub fn end(&mut self) {
        self.ended = true;
    }
}

/// The last `len` bytes of the stream, complete once the stream has ended.
#[derive(Debug, Clone)]
pub(crate) struct Tail {
    len: usize,
    data: Vec<u8>,
    ended: bool,
}

impl Tail {
    pub fn new(len: usize) -> Self {
        Self {
            len,
            data: Vec::with_capacity(len),
            ended: false,
        }
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn complete(&self) -> bool {
        self.ended && self.data.len() == self.len
    }

    pub fn capture(&mut self, chunk: &[u8]) {
        if chunk.len() >= self.len {
            self.data.clear();
            self.data
                .extend_from_slice(&chunk[chunk.len() - self.len..]);
        } else {
            let keep = self.len - chunk.len();
            if self.data.len() > keep {
                self.data.drain(..self.data.len() - keep);
            }
            self.data.extend_from_slice(chunk);
        }
    }

    pub fn end(&mut self) {
        self.ended = true;
    }
}

/// Fixed-width integers at `at`, `None` when `data` is too short.
pub(crate) fn le_u16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

pub(crate) fn le_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

pub(crate) fn le_u64(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

pub(crate) fn be_u16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

pub(crate) fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

pub(crate) fn be_u64(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(r: &mut Region, data: &[u8], chunk: usize) {
        let mut pos = 0u64;
        for c in data.chunks(chunk) {
            r.capture(pos, c);
            pos += c.len() as u64;
        }
    }

    #[test]
    fn a_window_is_the_same_for_every_chunking() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        for chunk in [1, 7, 511, 512, 513, 4096, 10_000] {
            let mut r = Region::new(1000, 700);
            feed(&mut r, &data, chunk);
            assert!(r.complete(), "chunk {chunk}");
            assert_eq!(r.data(), &data[1000..1700], "chunk {chunk}");
        }
    }

    #[test]
    fn a_short_stream_completes_only_a_window_with_a_minimum() {
        let data = [7u8; 100];
        let mut strict = Region::new(0, 512);
        let mut loose = Region::at_least(0, 512, 64);
        feed(&mut strict, &data, 33);
        feed(&mut loose, &data, 33);
        assert!(!strict.complete() && !loose.complete());
        strict.end();
        loose.end();
        assert!(!strict.complete());
        assert!(loose.complete());
        assert_eq!(loose.data().len(), 100);
    }

    #[test]
    fn a_window_that_started_before_it_was_declared_stays_empty() {
        let mut r = Region::new(10, 20);
        r.capture(15, &[1; 100]);
        assert!(r.data().is_empty());
    }

    #[test]
    fn the_tail_keeps_the_last_bytes() {
        let data: Vec<u8> = (0..3000u32).map(|i| (i % 253) as u8).collect();
        for chunk in [1, 100, 1536, 1537, 5000] {
            let mut t = Tail::new(1536);
            for c in data.chunks(chunk) {
                t.capture(c);
            }
            t.end();
            assert!(t.complete());
            assert_eq!(t.data(), &data[3000 - 1536..], "chunk {chunk}");
        }
    }
}
