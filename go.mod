module github.com/modelreg/registry

go 1.24.0

require (
	github.com/aws/aws-sdk-go-v2 v1.48.0
	github.com/dominikbraun/graph v0.23.0
	github.com/google/uuid v1.6.0
	github.com/hashicorp/go-immutable-radix v1.3.1
	github.com/hashicorp/go-memdb v1.3.5
	github.com/stretchr/testify v1.12.1
	golang.org/x/text v0.34.0
)

require (
	github.com/aws/smithy-go v1.28.9 // indirect
	github.com/hashicorp/golang-lru v0.5.4 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
