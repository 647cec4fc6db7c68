"""Contains all the data models used in inputs/outputs"""

from .cache_pruned import CachePruned
from .cache_state import CacheState
from .cached_image import CachedImage
from .container_format import ContainerFormat
from .disk_format import DiskFormat
from .error import Error
from .image import Image
from .image_create import ImageCreate
from .image_import import ImageImport
from .image_import_method import ImageImportMethod
from .image_patch_op import ImagePatchOp
from .image_sort_key import ImageSortKey
from .image_status import ImageStatus
from .image_task import ImageTask
from .image_task_input import ImageTaskInput
from .image_task_result_type_0 import ImageTaskResultType0
from .image_tasks import ImageTasks
from .image_visibility import ImageVisibility
from .images import Images
from .import_method_name import ImportMethodName
from .import_methods import ImportMethods
from .import_methods_value import ImportMethodsValue
from .import_task_input import ImportTaskInput
from .import_task_input_image_properties import ImportTaskInputImageProperties
from .json_schema import JsonSchema
from .link import Link
from .location import Location
from .location_create import LocationCreate
from .location_create_validation_data import LocationCreateValidationData
from .location_validation_data import LocationValidationData
from .member import Member
from .member_create import MemberCreate
from .member_status import MemberStatus
from .member_status_filter import MemberStatusFilter
from .member_update import MemberUpdate
from .members import Members
from .metadef_namespace import MetadefNamespace
from .metadef_namespace_create import MetadefNamespaceCreate
from .metadef_namespace_create_properties import MetadefNamespaceCreateProperties
from .metadef_namespace_properties import MetadefNamespaceProperties
from .metadef_namespaces import MetadefNamespaces
from .metadef_object import MetadefObject
from .metadef_object_create import MetadefObjectCreate
from .metadef_object_create_properties import MetadefObjectCreateProperties
from .metadef_object_properties import MetadefObjectProperties
from .metadef_objects import MetadefObjects
from .metadef_properties import MetadefProperties
from .metadef_properties_properties import MetadefPropertiesProperties
from .metadef_property import MetadefProperty
from .metadef_resource_type import MetadefResourceType
from .metadef_resource_type_association import MetadefResourceTypeAssociation
from .metadef_resource_type_association_create import MetadefResourceTypeAssociationCreate
from .metadef_resource_type_associations import MetadefResourceTypeAssociations
from .metadef_resource_types import MetadefResourceTypes
from .metadef_tag import MetadefTag
from .metadef_tag_name import MetadefTagName
from .metadef_tags import MetadefTags
from .namespace_sort_key import NamespaceSortKey
from .namespace_visibility import NamespaceVisibility
from .patch_op import PatchOp
from .query_bool import QueryBool
from .quota_usage import QuotaUsage
from .sort_dir import SortDir
from .store import Store
from .stores import Stores
from .tag_sort_key import TagSortKey
from .task import Task
from .task_create import TaskCreate
from .task_status import TaskStatus
from .tasks import Tasks
from .usage import Usage
from .usage_usage import UsageUsage
from .version import Version
from .versions import Versions
from .visibility_filter import VisibilityFilter

__all__ = (
    "CachedImage",
    "CachePruned",
    "CacheState",
    "ContainerFormat",
    "DiskFormat",
    "Error",
    "Image",
    "ImageCreate",
    "ImageImport",
    "ImageImportMethod",
    "ImagePatchOp",
    "Images",
    "ImageSortKey",
    "ImageStatus",
    "ImageTask",
    "ImageTaskInput",
    "ImageTaskResultType0",
    "ImageTasks",
    "ImageVisibility",
    "ImportMethodName",
    "ImportMethods",
    "ImportMethodsValue",
    "ImportTaskInput",
    "ImportTaskInputImageProperties",
    "JsonSchema",
    "Link",
    "Location",
    "LocationCreate",
    "LocationCreateValidationData",
    "LocationValidationData",
    "Member",
    "MemberCreate",
    "Members",
    "MemberStatus",
    "MemberStatusFilter",
    "MemberUpdate",
    "MetadefNamespace",
    "MetadefNamespaceCreate",
    "MetadefNamespaceCreateProperties",
    "MetadefNamespaceProperties",
    "MetadefNamespaces",
    "MetadefObject",
    "MetadefObjectCreate",
    "MetadefObjectCreateProperties",
    "MetadefObjectProperties",
    "MetadefObjects",
    "MetadefProperties",
    "MetadefPropertiesProperties",
    "MetadefProperty",
    "MetadefResourceType",
    "MetadefResourceTypeAssociation",
    "MetadefResourceTypeAssociationCreate",
    "MetadefResourceTypeAssociations",
    "MetadefResourceTypes",
    "MetadefTag",
    "MetadefTagName",
    "MetadefTags",
    "NamespaceSortKey",
    "NamespaceVisibility",
    "PatchOp",
    "QueryBool",
    "QuotaUsage",
    "SortDir",
    "Store",
    "Stores",
    "TagSortKey",
    "Task",
    "TaskCreate",
    "Tasks",
    "TaskStatus",
    "Usage",
    "UsageUsage",
    "Version",
    "Versions",
    "VisibilityFilter",
)
