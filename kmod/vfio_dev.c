// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_device_ops of vfio-pci-bpf.
 *
 * Every operation is vfio_pci_core's; this table is the place where later
 * instrumentation wraps them, so that with nothing attached the device
 * behaves exactly as under vfio-pci.
 */

#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_bpf.h"

static int vfio_pci_bpf_open_device(struct vfio_device *vdev)
{
	struct vfio_pci_core_device *core_device =
		container_of(vdev, struct vfio_pci_core_device, vdev);
	int ret;

	ret = vfio_pci_core_enable(core_device);
	if (ret)
		return ret;

	ret = vfio_pci_bpf_lm_open(vfio_pci_bpf_from_vdev(vdev));
	if (ret) {
		vfio_pci_core_disable(core_device);
		return ret;
	}

	vfio_pci_core_finish_enable(core_device);
	return 0;
}

static void vfio_pci_bpf_close_device(struct vfio_device *vdev)
{
	vfio_pci_bpf_lm_close(vfio_pci_bpf_from_vdev(vdev));
	vfio_pci_core_close_device(vdev);
}

static int vfio_pci_bpf_init_dev(struct vfio_device *vdev)
{
	int ret;

	ret = vfio_pci_core_init_dev(vdev);
	if (ret)
		return ret;

	vfio_pci_bpf_lm_init(vfio_pci_bpf_from_vdev(vdev));
	return 0;
}

static const struct vfio_device_ops vfio_pci_bpf_dev_ops = {
	.name		= "vfio-pci-bpf",
	.init		= vfio_pci_bpf_init_dev,
	.release	= vfio_pci_core_release_dev,
	.open_device	= vfio_pci_bpf_open_device,
	.close_device	= vfio_pci_bpf_close_device,
	.ioctl		= vfio_pci_core_ioctl,
	.device_feature	= vfio_pci_core_ioctl_feature,
	.read		= vfio_pci_core_read,
	.write		= vfio_pci_core_write,
	.mmap		= vfio_pci_core_mmap,
	.request	= vfio_pci_core_request,
	.match		= vfio_pci_core_match,
	.bind_iommufd	= vfio_iommufd_physical_bind,
	.unbind_iommufd	= vfio_iommufd_physical_unbind,
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
};

const struct vfio_device_ops *vfio_pci_bpf_ops(void)
{
	return &vfio_pci_bpf_dev_ops;
}
