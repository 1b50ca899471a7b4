//! What a region offers: its flavors, images and external networks, chosen among what the provider
//! has and described as Unikorn's region describes them (`pkg/providers/internal/openstack`). Pure
//! conversions; the use-cases fetch, cache and serve them.

mod external;
mod flavors;
mod images;

pub use external::offered_external_networks;
pub use flavors::{offered_flavors, FlavorGpuSpec, OfferedFlavor};
pub use images::{describe, offered_images, ImageGpuSpec, ImageOs, OfferedImage};
pub use images::{CREATED_BY, DESCRIPTION, DIGEST, IMAGE_ORGANIZATION_TAG, IMAGE_SOURCE_TAG, ORGANIZATION, PACKAGE};
pub use images::{SOURCE_SNAPSHOT, TAG};

/// Bytes in a GiB.
pub(crate) const GIB: u64 = 1 << 30;
