from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.namespace_visibility import NamespaceVisibility
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.metadef_namespace_create_properties import MetadefNamespaceCreateProperties
    from ..models.metadef_object_create import MetadefObjectCreate
    from ..models.metadef_resource_type_association_create import MetadefResourceTypeAssociationCreate
    from ..models.metadef_tag_name import MetadefTagName


T = TypeVar("T", bound="MetadefNamespaceCreate")


@_attrs_define
class MetadefNamespaceCreate:
    """A new namespace, or a namespace's replacement (`PUT` takes only its own fields).

    Attributes:
        namespace (str):
        description (str | Unset):
        display_name (str | Unset):
        objects (list[MetadefObjectCreate] | Unset):
        owner (str | Unset):
        properties (MetadefNamespaceCreateProperties | Unset):
        protected (bool | Unset):
        resource_type_associations (list[MetadefResourceTypeAssociationCreate] | Unset):
        tags (list[MetadefTagName] | Unset):
        visibility (NamespaceVisibility | Unset): Who may see a metadef namespace.
    """

    namespace: str
    description: str | Unset = UNSET
    display_name: str | Unset = UNSET
    objects: list[MetadefObjectCreate] | Unset = UNSET
    owner: str | Unset = UNSET
    properties: MetadefNamespaceCreateProperties | Unset = UNSET
    protected: bool | Unset = UNSET
    resource_type_associations: list[MetadefResourceTypeAssociationCreate] | Unset = UNSET
    tags: list[MetadefTagName] | Unset = UNSET
    visibility: NamespaceVisibility | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        namespace = self.namespace

        description = self.description

        display_name = self.display_name

        objects: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.objects, Unset):
            objects = []
            for objects_item_data in self.objects:
                objects_item = objects_item_data.to_dict()
                objects.append(objects_item)

        owner = self.owner

        properties: dict[str, Any] | Unset = UNSET
        if not isinstance(self.properties, Unset):
            properties = self.properties.to_dict()

        protected = self.protected

        resource_type_associations: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.resource_type_associations, Unset):
            resource_type_associations = []
            for resource_type_associations_item_data in self.resource_type_associations:
                resource_type_associations_item = resource_type_associations_item_data.to_dict()
                resource_type_associations.append(resource_type_associations_item)

        tags: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = []
            for tags_item_data in self.tags:
                tags_item = tags_item_data.to_dict()
                tags.append(tags_item)

        visibility: str | Unset = UNSET
        if not isinstance(self.visibility, Unset):
            visibility = self.visibility.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "namespace": namespace,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if display_name is not UNSET:
            field_dict["display_name"] = display_name
        if objects is not UNSET:
            field_dict["objects"] = objects
        if owner is not UNSET:
            field_dict["owner"] = owner
        if properties is not UNSET:
            field_dict["properties"] = properties
        if protected is not UNSET:
            field_dict["protected"] = protected
        if resource_type_associations is not UNSET:
            field_dict["resource_type_associations"] = resource_type_associations
        if tags is not UNSET:
            field_dict["tags"] = tags
        if visibility is not UNSET:
            field_dict["visibility"] = visibility

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metadef_namespace_create_properties import MetadefNamespaceCreateProperties  # noqa: PLC0415
        from ..models.metadef_object_create import MetadefObjectCreate  # noqa: PLC0415
        from ..models.metadef_resource_type_association_create import MetadefResourceTypeAssociationCreate  # noqa: PLC0415
        from ..models.metadef_tag_name import MetadefTagName  # noqa: PLC0415

        d = dict(src_dict)
        namespace = d.pop("namespace")

        description = d.pop("description", UNSET)

        display_name = d.pop("display_name", UNSET)

        _objects = d.pop("objects", UNSET)
        objects: list[MetadefObjectCreate] | Unset = UNSET
        if _objects is not UNSET:
            objects = []
            for objects_item_data in _objects:
                objects_item = MetadefObjectCreate.from_dict(objects_item_data)

                objects.append(objects_item)

        owner = d.pop("owner", UNSET)

        _properties = d.pop("properties", UNSET)
        properties: MetadefNamespaceCreateProperties | Unset
        if isinstance(_properties, Unset):
            properties = UNSET
        else:
            properties = MetadefNamespaceCreateProperties.from_dict(_properties)

        protected = d.pop("protected", UNSET)

        _resource_type_associations = d.pop("resource_type_associations", UNSET)
        resource_type_associations: list[MetadefResourceTypeAssociationCreate] | Unset = UNSET
        if _resource_type_associations is not UNSET:
            resource_type_associations = []
            for resource_type_associations_item_data in _resource_type_associations:
                resource_type_associations_item = MetadefResourceTypeAssociationCreate.from_dict(
                    resource_type_associations_item_data
                )

                resource_type_associations.append(resource_type_associations_item)

        _tags = d.pop("tags", UNSET)
        tags: list[MetadefTagName] | Unset = UNSET
        if _tags is not UNSET:
            tags = []
            for tags_item_data in _tags:
                tags_item = MetadefTagName.from_dict(tags_item_data)

                tags.append(tags_item)

        _visibility = d.pop("visibility", UNSET)
        visibility: NamespaceVisibility | Unset
        if isinstance(_visibility, Unset):
            visibility = UNSET
        else:
            visibility = NamespaceVisibility(_visibility)

        metadef_namespace_create = cls(
            namespace=namespace,
            description=description,
            display_name=display_name,
            objects=objects,
            owner=owner,
            properties=properties,
            protected=protected,
            resource_type_associations=resource_type_associations,
            tags=tags,
            visibility=visibility,
        )

        metadef_namespace_create.additional_properties = d
        return metadef_namespace_create

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
