//! `image_conversion`: converts the staged data to `[image_conversion]
//! output_format` with `qemu-img`, as Glance's plugin does, after the same
//! checks in the same order:
//!
//! 1. the format inspector reads the whole staged file: the content must be
//!    the image's `disk_format` (an ISO is left as it is) and pass that
//!    format's safety checks;
//! 2. `qemu-img info --output=json`, under Glance's limits (1 GiB of address
//!    space, 30 s of CPU), must agree about the format and report no backing
//!    file, no external data file and, for VMDK, an allowed create-type; its
//!    `virtual-size` becomes the image's;
//! 3. `qemu-img convert` writes a partial file in the staging area, which is
//!    inspected as the new format and renamed over the staged file; the image
//!    then has the new `disk_format`, `container_format = bare` and `size`.
//!
//! The hashes follow from the stored bytes: the import hashes the converted
//! file as it writes it to the stores.

use std::path::Path;

use futures::future::BoxFuture;
use serde_json::Value;
use std::process::Command;

use super::{ImportPlugin, PluginError, Staged};
use crate::config::ImageFormatConfig;
use crate::format::{ImageCheck, Refusal};

pub(super) struct ImageConversion;

/// Glance's `QEMU_IMG_PROC_LIMITS` for `qemu-img info`.
const INFO_ADDRESS_SPACE: u64 = 1 << 30;
const INFO_CPU_SECONDS: u64 = 30;

/// Glance's default `[image_format] vmdk_allowed_types`.
const VMDK_ALLOWED_TYPES: [&str; 2] = ["streamOptimized", "monolithicSparse"];

fn refused(why: impl Into<String>) -> PluginError {
    PluginError(why.into())
}

/// Step 1 on `path`: whether the content is `disk_format` and safe. `Ok(false)`:
/// an ISO image, which is never converted.
async fn inspect(
    path: &Path,
    disk_format: &str,
    config: &ImageFormatConfig,
) -> Result<bool, PluginError> {
    let check = ImageCheck::for_image(Some("bare"), Some(disk_format), config)
        .ok_or_else(|| refused("Unable to inspect image"))?;
    let path = path.to_owned();
    let (detected, verdict) = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut check = check;
        let mut file = std::fs::File::open(&path)?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            check.feed(&buf[..n]);
        }
        Ok::<_, std::io::Error>(check.finish_strict())
    })
    .await
    .map_err(|e| refused(format!("Unable to inspect image: {e}")))??;

    let mut names = detected.clone();
    names.sort_unstable();
    let found = match names.as_slice() {
        ["gpt", "iso"] | ["iso"] => "iso",
        // Glance takes a GPT disk as raw.
        ["gpt"] => "raw",
        [one] => one,
        _ => {
            return Err(refused(format!(
                "Image format detection failed: multiple formats detected: {}",
                detected.join(",")
            )));
        }
    };
    if found == "iso" {
        if disk_format == "iso" {
            return Ok(false);
        }
        return Err(refused(format!(
            "Image has disallowed configuration: image claimed to be {disk_format} \
             but format inspection found iso"
        )));
    }
    if found != disk_format {
        return Err(refused(format!(
            "Image format mismatch: image claimed to be {disk_format} but its content is {found}"
        )));
    }
    match verdict {
        Ok(_) => Ok(true),
        Err(Refusal::Unsafe { format, failures }) => {
            let why: Vec<String> = failures
                .iter()
                .map(|f| format!("{}: {}", f.check, f.reason))
                .collect();
            Err(refused(format!(
                "Image has disallowed configuration: {format} safety check failed ({})",
                why.join("; ")
            )))
        }
        Err(e) => Err(refused(format!("Image format detection failed: {e}"))),
    }
}

/// Runs `program args`, refusing on a failure or on anything written to stderr
/// (as Glance's `trycmd` use does); returns stdout.
async fn run(program: &str, args: &[&std::ffi::OsStr]) -> Result<Vec<u8>, PluginError> {
    let mut command = Command::new(program);
    command.args(args).stdin(std::process::Stdio::null());
    let program = program.to_owned();
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .map_err(|e| refused(format!("{program} stopped: {e}")))?
        .map_err(|e| refused(format!("could not run {program}: {e}")))?;
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if !stderr.is_empty() {
        return Err(refused(stderr));
    }
    if !out.status.success() {
        return Err(refused(format!("{program} failed: {}", out.status)));
    }
    Ok(out.stdout)
}

/// Step 2's verdict on `qemu-img info`'s answer; the virtual size.
fn check_info(info: &Value, disk_format: &str) -> Result<u64, PluginError> {
    let format = info.get("format").and_then(Value::as_str);
    if format != Some(disk_format) {
        return Err(refused(format!(
            "Image metadata disagrees about format: qemu-img reports {}",
            format.unwrap_or("unknown")
        )));
    }
    if info.get("backing-filename").is_some() {
        return Err(refused("QCOW images with backing files are not allowed"));
    }
    let data = info.pointer("/format-specific/data");
    if data
        .and_then(|d| d.get("data-file"))
        .is_some_and(|f| !f.is_null())
    {
        return Err(refused("QCOW images with data-file set are not allowed"));
    }
    if disk_format == "vmdk" {
        let create_type = data
            .and_then(|d| d.get("create-type"))
            .and_then(Value::as_str)
            .ok_or_else(|| refused("Unable to determine VMDK create-type"))?;
        if !VMDK_ALLOWED_TYPES.contains(&create_type) {
            return Err(refused("Invalid VMDK create-type specified"));
        }
    }
    Ok(info
        .get("virtual-size")
        .and_then(Value::as_u64)
        .unwrap_or(0))
}

impl ImportPlugin for ImageConversion {
    fn name(&self) -> &'static str {
        "image_conversion"
    }

    fn run<'a>(&'a self, staged: &'a Staged<'a>) -> BoxFuture<'a, Result<(), PluginError>> {
        Box::pin(async move {
            let app = staged.app;
            let target = app.config.image_conversion.output_format.as_str();
            let image = staged.image().await?;
            let source = image
                .disk_format
                .clone()
                .ok_or_else(|| refused("the image has no disk_format"))?;
            if !crate::format::ALL_FORMATS.contains(&source.as_str()) {
                return Err(refused(format!("Unable to convert from format {source}")));
            }
            if !inspect(&staged.path, &source, &app.config.image_format).await? {
                tracing::debug!(image = %staged.image_id, "an iso image is not converted");
                return Ok(());
            }

            let limits_as = format!("--as={INFO_ADDRESS_SPACE}");
            let limits_cpu = format!("--cpu={INFO_CPU_SECONDS}");
            let stdout = run(
                "prlimit",
                &[
                    limits_as.as_ref(),
                    limits_cpu.as_ref(),
                    "--".as_ref(),
                    "qemu-img".as_ref(),
                    "info".as_ref(),
                    "-f".as_ref(),
                    source.as_ref(),
                    "--output=json".as_ref(),
                    staged.path.as_os_str(),
                ],
            )
            .await?;
            let info: Value = serde_json::from_slice(&stdout)
                .map_err(|e| refused(format!("unreadable qemu-img info output: {e}")))?;
            let virtual_size = check_info(&info, &source)?;
            staged
                .modify(|img| {
                    img.virtual_size = Some(virtual_size as i64);
                    Ok(())
                })
                .await?;
            if source == target {
                tracing::debug!(image = %staged.image_id, "already in the output format");
                return Ok(());
            }

            let dest = staged.scratch("convert");
            let converted = async {
                run(
                    "qemu-img",
                    &[
                        "convert".as_ref(),
                        "-f".as_ref(),
                        source.as_ref(),
                        "-O".as_ref(),
                        target.as_ref(),
                        staged.path.as_os_str(),
                        dest.as_os_str(),
                    ],
                )
                .await?;
                if !inspect(&dest, target, &app.config.image_format).await? {
                    return Err(refused("the converted image is an iso"));
                }
                tokio::fs::rename(&dest, &staged.path).await?;
                Ok(tokio::fs::metadata(&staged.path).await?.len())
            }
            .await;
            let size = match converted {
                Ok(size) => size,
                Err(e) => {
                    let _ = tokio::fs::remove_file(&dest).await;
                    return Err(e);
                }
            };
            staged
                .modify(|img| {
                    img.disk_format = Some(target.to_owned());
                    img.container_format = Some("bare".to_owned());
                    img.size = Some(size as i64);
                    Ok(())
                })
                .await?;
            tracing::info!(image = %staged.image_id, size, disk_format = target, "image converted");
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn qemu_img_info_refusals_keep_glance_wording() {
        let err = |v: Value, f: &str| check_info(&v, f).unwrap_err().0;
        assert_eq!(
            err(json!({"format": "raw"}), "qcow2"),
            "Image metadata disagrees about format: qemu-img reports raw"
        );
        assert_eq!(
            err(
                json!({"format": "qcow2", "backing-filename": "/etc/passwd"}),
                "qcow2"
            ),
            "QCOW images with backing files are not allowed"
        );
        assert_eq!(
            err(
                json!({"format": "qcow2", "format-specific": {"data": {"data-file": "x"}}}),
                "qcow2"
            ),
            "QCOW images with data-file set are not allowed"
        );
        assert_eq!(
            err(json!({"format": "vmdk"}), "vmdk"),
            "Unable to determine VMDK create-type"
        );
        assert_eq!(
            err(
                json!({"format": "vmdk", "format-specific": {"data": {"create-type": "monolithicFlat"}}}),
                "vmdk"
            ),
            "Invalid VMDK create-type specified"
        );
    }

    #[test]
    fn qemu_img_info_gives_the_virtual_size() {
        let info = json!({"format": "qcow2", "virtual-size": 1048576,
            "format-specific": {"type": "qcow2", "data": {"compat": "1.1"}}});
        assert_eq!(check_info(&info, "qcow2").unwrap(), 1 << 20);
    }
}
