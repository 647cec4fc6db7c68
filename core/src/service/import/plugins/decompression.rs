//! `image_decompression`: staged data that starts with the magic number of
//! a zip, lha/lzh or gzip file is decompressed in the staging area, as
//! Glance's plugin does; an image whose `container_format` is `compressed`
//! is meant to stay compressed and is left alone. A zip or lha archive must
//! hold exactly one file.
//!
//! Unlike Glance, the output is bounded: `[image_decompression]
//! max_output_bytes` and `[api] image_size_cap`. Data that would expand
//! past the bound (a decompression bomb) fails the import; the partial file
//! is removed.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use futures::future::BoxFuture;

use super::{ImportPlugin, PluginError, Staged};

pub(super) struct ImageDecompression;

/// What the staged data is compressed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zip,
    Lha,
    Gzip,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Zip => "zip",
            Self::Lha => "lha",
            Self::Gzip => "gzip",
        }
    }
}

/// Glance's magic numbers, with their offsets in the file.
const MAGIC_NUMBERS: [(Kind, usize, &[u8]); 3] = [
    (Kind::Zip, 0, &[0x50, 0x4B, 0x03, 0x04]),
    (Kind::Lha, 2, &[0x2D, 0x6C, 0x68]),
    (Kind::Gzip, 0, &[0x1F, 0x8B, 0x08]),
];

/// The compression `head` (the file's first bytes) announces, if any.
fn detect(head: &[u8]) -> Option<Kind> {
    MAGIC_NUMBERS
        .iter()
        .find(|(_, offset, magic)| head.get(*offset..*offset + magic.len()) == Some(*magic))
        .map(|(kind, _, _)| *kind)
}

fn too_large(bound: u64) -> PluginError {
    PluginError(format!(
        "Decompressed image data exceeds the limit of {bound} bytes"
    ))
}

fn damaged(kind: Kind, e: impl std::fmt::Display) -> PluginError {
    PluginError(format!(
        "Error decompressing {} image data: {e}",
        kind.name()
    ))
}

/// Copies `from` into `to`, refusing more than `bound` bytes.
fn copy_bounded(
    from: impl Read,
    to: &mut File,
    bound: u64,
    kind: Kind,
) -> Result<u64, PluginError> {
    let copied =
        io::copy(&mut from.take(bound.saturating_add(1)), to).map_err(|e| damaged(kind, e))?;
    if copied > bound {
        return Err(too_large(bound));
    }
    Ok(copied)
}

fn one_file() -> PluginError {
    PluginError("Archive contains more than one file.".into())
}

/// Decompresses `src` (compressed as `kind`) into `dest`, bounded.
fn decompress(src: &Path, dest: &Path, kind: Kind, bound: u64) -> Result<u64, PluginError> {
    let mut out = File::create(dest)?;
    let size = match kind {
        Kind::Gzip => {
            let input = io::BufReader::new(File::open(src)?);
            copy_bounded(
                flate2::read::MultiGzDecoder::new(input),
                &mut out,
                bound,
                kind,
            )?
        }
        Kind::Zip => {
            let mut archive =
                zip::ZipArchive::new(File::open(src)?).map_err(|e| damaged(kind, e))?;
            if archive.len() != 1 {
                return Err(one_file());
            }
            let entry = archive.by_index(0).map_err(|e| damaged(kind, e))?;
            if entry.is_dir() {
                return Err(damaged(kind, "the archive holds a directory"));
            }
            if entry.size() > bound {
                return Err(too_large(bound));
            }
            copy_bounded(entry, &mut out, bound, kind)?
        }
        Kind::Lha => {
            let mut reader = delharc::parse_file(src).map_err(|e| damaged(kind, e))?;
            if reader.header().is_directory() {
                return Err(damaged(kind, "the archive holds a directory"));
            }
            if !reader.is_decoder_supported() {
                return Err(damaged(kind, "unsupported compression method"));
            }
            if reader.header().original_size > bound {
                return Err(too_large(bound));
            }
            let size = copy_bounded(&mut reader, &mut out, bound, kind)?;
            reader.crc_check().map_err(|e| damaged(kind, e))?;
            if reader.next_file().map_err(|e| damaged(kind, e))? {
                return Err(one_file());
            }
            size
        }
    };
    out.flush()?;
    out.sync_all()?;
    Ok(size)
}

/// Detects and decompresses the file at `path` in place; `scratch` is the
/// partial file written meanwhile. `Ok(None)`: not compressed.
fn decompress_in_place(
    path: &Path,
    scratch: &PathBuf,
    bound: u64,
) -> Result<Option<(Kind, u64)>, PluginError> {
    let mut head = Vec::with_capacity(8);
    File::open(path)?.take(8).read_to_end(&mut head)?;
    let Some(kind) = detect(&head) else {
        return Ok(None);
    };
    match decompress(path, scratch, kind, bound) {
        Ok(size) => {
            std::fs::rename(scratch, path)?;
            Ok(Some((kind, size)))
        }
        Err(e) => {
            let _ = std::fs::remove_file(scratch);
            Err(e)
        }
    }
}

impl ImportPlugin for ImageDecompression {
    fn name(&self) -> &'static str {
        "image_decompression"
    }

    fn run<'a>(&'a self, staged: &'a Staged<'a>) -> BoxFuture<'a, Result<(), PluginError>> {
        Box::pin(async move {
            let image = staged.image().await?;
            if image.container_format.as_deref() == Some("compressed") {
                return Ok(());
            }
            let config = &staged.app.config;
            let bound = config
                .image_decompression
                .max_output_bytes
                .min(config.api.image_size_cap);
            let path = staged.path.clone();
            let scratch = staged.scratch("decompress");
            let done =
                tokio::task::spawn_blocking(move || decompress_in_place(&path, &scratch, bound))
                    .await
                    .map_err(|e| PluginError(format!("decompression stopped: {e}")))??;
            if let Some((kind, size)) = done {
                tracing::info!(image = %staged.image_id, format = kind.name(), size, "image data decompressed");
                staged
                    .modify(|img| {
                        img.size = Some(size as i64);
                        Ok(())
                    })
                    .await?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn magic_numbers_are_glances() {
        assert_eq!(detect(b"PK\x03\x04rest"), Some(Kind::Zip));
        assert_eq!(detect(b"\x1f\x8b\x08\x00"), Some(Kind::Gzip));
        assert_eq!(detect(b"!!-lh5-"), Some(Kind::Lha));
        assert_eq!(detect(b"QFI\xfb"), None);
        assert_eq!(detect(b"\x1f\x8b"), None);
        assert_eq!(detect(b""), None);
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn gzip_is_decompressed_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("img");
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, gzip(&data)).unwrap();
        let done = decompress_in_place(&path, &dir.path().join("scratch"), 1 << 20).unwrap();
        assert_eq!(done, Some((Kind::Gzip, data.len() as u64)));
        assert_eq!(std::fs::read(&path).unwrap(), data);
    }

    #[test]
    fn a_bomb_is_refused_and_nothing_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("img");
        let compressed = gzip(&vec![0u8; 1 << 20]);
        assert!(compressed.len() < 2048, "{}", compressed.len());
        std::fs::write(&path, &compressed).unwrap();
        let scratch = dir.path().join("scratch");
        let err = decompress_in_place(&path, &scratch, 64 << 10).unwrap_err();
        assert_eq!(
            err.0,
            "Decompressed image data exceeds the limit of 65536 bytes"
        );
        assert!(!scratch.exists());
        assert_eq!(std::fs::read(&path).unwrap(), compressed);
    }

    /// CRC-16/ARC, the checksum of LHA archives.
    fn crc16(data: &[u8]) -> u16 {
        let mut crc = 0u16;
        for byte in data {
            crc ^= u16::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xA001
                } else {
                    crc >> 1
                };
            }
        }
        crc
    }

    /// A level-0 LHA archive storing `files` uncompressed (`-lh0-`).
    fn lha(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in files {
            let mut header = Vec::new();
            header.extend_from_slice(b"-lh0-");
            header.extend_from_slice(&(data.len() as u32).to_le_bytes());
            header.extend_from_slice(&(data.len() as u32).to_le_bytes());
            header.extend_from_slice(&[0, 0, 0x21, 0x00]); // MS-DOS time and date
            header.extend_from_slice(&[0x20, 0]); // attribute, level 0
            header.push(name.len() as u8);
            header.extend_from_slice(name.as_bytes());
            header.extend_from_slice(&crc16(data).to_le_bytes());
            let sum = header.iter().fold(0u8, |s, b| s.wrapping_add(*b));
            out.push(header.len() as u8);
            out.push(sum);
            out.extend_from_slice(&header);
            out.extend_from_slice(data);
        }
        out.push(0);
        out
    }

    #[test]
    fn lha_archives_of_one_file_are_extracted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("img");
        let data: Vec<u8> = (0..5000u32).map(|i| (i % 13) as u8).collect();
        std::fs::write(&path, lha(&[("disk.img", &data)])).unwrap();
        let done = decompress_in_place(&path, &dir.path().join("s"), 1 << 20).unwrap();
        assert_eq!(done, Some((Kind::Lha, data.len() as u64)));
        assert_eq!(std::fs::read(&path).unwrap(), data);

        std::fs::write(&path, lha(&[("a", &data), ("b", &data)])).unwrap();
        let err = decompress_in_place(&path, &dir.path().join("s"), 1 << 20).unwrap_err();
        assert_eq!(err.0, "Archive contains more than one file.");
        std::fs::write(&path, lha(&[("a", &data)])).unwrap();
        let err = decompress_in_place(&path, &dir.path().join("s"), 100).unwrap_err();
        assert_eq!(
            err.0,
            "Decompressed image data exceeds the limit of 100 bytes"
        );
    }

    #[test]
    fn data_that_is_not_compressed_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("img");
        std::fs::write(&path, b"plain").unwrap();
        assert_eq!(
            decompress_in_place(&path, &dir.path().join("s"), 10).unwrap(),
            None
        );
    }
}
