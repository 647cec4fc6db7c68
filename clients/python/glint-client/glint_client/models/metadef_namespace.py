from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.namespace_visibility import NamespaceVisibility
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.metadef_namespace_properties import MetadefNamespaceProperties
    from ..models.metadef_object import MetadefObject
    from ..models.metadef_resource_type_association import MetadefResourceTypeAssociation
    from ..models.metadef_tag_name import MetadefTagName


T = TypeVar("T", bound="MetadefNamespace")


@_attrs_define
class MetadefNamespace:
    """A namespace, with what it holds when shown on its own.

    Attributes:
        created_at (datetime.datetime):
        namespace (str):
        protected (bool): A protected namespace and its content cannot be deleted.
        schema (str):
        self_ (str):
        visibility (NamespaceVisibility): Who may see a metadef namespace.
        description (str | Unset):
        display_name (str | Unset):
        objects (list[MetadefObject] | Unset):
        owner (str | Unset): The owning project's id.
        properties (MetadefNamespaceProperties | Unset): Property definitions keyed by name.
        resource_type_associations (list[MetadefResourceTypeAssociation] | Unset):
        tags (list[MetadefTagName] | Unset):
        updated_at (datetime.datetime | Unset):
    """

    created_at: datetime.datetime
    namespace: str
    protected: bool
    schema: str
    self_: str
    visibility: NamespaceVisibility
    description: str | Unset = UNSET
    display_name: str | Unset = UNSET
    objects: list[MetadefObject] | Unset = UNSET
    owner: str | Unset = UNSET
    properties: MetadefNamespaceProperties | Unset = UNSET
    resource_type_associations: list[MetadefResourceTypeAssociation] | Unset = UNSET
    tags: list[MetadefTagName] | Unset = UNSET
    updated_at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        namespace = self.namespace

        protected = self.protected

        schema = self.schema

        self_ = self.self_

        visibility = self.visibility.value

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

        updated_at: str | Unset = UNSET
        if not isinstance(self.updated_at, Unset):
            updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "namespace": namespace,
                "protected": protected,
                "schema": schema,
                "self": self_,
                "visibility": visibility,
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
        if resource_type_associations is not UNSET:
            field_dict["resource_type_associations"] = resource_type_associations
        if tags is not UNSET:
            field_dict["tags"] = tags
        if updated_at is not UNSET:
            field_dict["updated_at"] = updated_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metadef_namespace_properties import MetadefNamespaceProperties  # noqa: PLC0415
        from ..models.metadef_object import MetadefObject  # noqa: PLC0415
        from ..models.metadef_resource_type_association import MetadefResourceTypeAssociation  # noqa: PLC0415
        from ..models.metadef_tag_name import MetadefTagName  # noqa: PLC0415

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        namespace = d.pop("namespace")

        protected = d.pop("protected")

        schema = d.pop("schema")

        self_ = d.pop("self")

        visibility = NamespaceVisibility(d.pop("visibility"))

        description = d.pop("description", UNSET)

        display_name = d.pop("display_name", UNSET)

        _objects = d.pop("objects", UNSET)
        objects: list[MetadefObject] | Unset = UNSET
        if _objects is not UNSET:
            objects = []
            for objects_item_data in _objects:
                objects_item = MetadefObject.from_dict(objects_item_data)

                objects.append(objects_item)

        owner = d.pop("owner", UNSET)

        _properties = d.pop("properties", UNSET)
        properties: MetadefNamespaceProperties | Unset
        if isinstance(_properties, Unset):
            properties = UNSET
        else:
            properties = MetadefNamespaceProperties.from_dict(_properties)

        _resource_type_associations = d.pop("resource_type_associations", UNSET)
        resource_type_associations: list[MetadefResourceTypeAssociation] | Unset = UNSET
        if _resource_type_associations is not UNSET:
            resource_type_associations = []
            for resource_type_associations_item_data in _resource_type_associations:
                resource_type_associations_item = MetadefResourceTypeAssociation.from_dict(
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

        _updated_at = d.pop("updated_at", UNSET)
        updated_at: datetime.datetime | Unset
        if isinstance(_updated_at, Unset):
            updated_at = UNSET
        else:
            updated_at = datetime.datetime.fromisoformat(_updated_at)

        metadef_namespace = cls(
            created_at=created_at,
            namespace=namespace,
            protected=protected,
            schema=schema,
            self_=self_,
            visibility=visibility,
            description=description,
            display_name=display_name,
            objects=objects,
            owner=owner,
            properties=properties,
            resource_type_associations=resource_type_associations,
            tags=tags,
            updated_at=updated_at,
        )

        metadef_namespace.additional_properties = d
        return metadef_namespace

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
