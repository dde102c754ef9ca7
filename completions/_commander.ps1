
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'commander' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'commander'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'commander' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('--schema', '--schema', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto-path', '--proto-path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto_path', '--proto_path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: schema, command and response types, header defaults, MQTT')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Message type to build (default: the profile''s command type)')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'Message type to build (default: the profile''s command type)')
            [CompletionResult]::new('--response-type', '--response-type', [CompletionResultType]::ParameterName, 'Type of the replies to decode (default: the profile''s response type)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for a reply after publishing, like 10s')
            [CompletionResult]::new('--link', '--link', [CompletionResultType]::ParameterName, 'Envelope link: auto, none, or SELECTOR=ONEOF (field paths, like header.op=body.content)')
            [CompletionResult]::new('--bytes-as', '--bytes-as', [CompletionResultType]::ParameterName, 'Build the message carried in a bytes field: FIELD.PATH=TYPE (repeatable)')
            [CompletionResult]::new('--broker', '--broker', [CompletionResultType]::ParameterName, 'Broker URL: mqtt://[user[:password]@]host:port, or mqtts://... for TLS')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Username')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password (better from the environment: it is never printed)')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'CA certificate (PEM) to trust for mqtts:// instead of the system''s roots')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM), for brokers that require one (with --key; mqtts:// only)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of the client certificate')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'How long the broker may take to accept a connection (each reconnect too)')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'Client id (default: commander- and a random suffix)')
            [CompletionResult]::new('--keep-alive', '--keep-alive', [CompletionResultType]::ParameterName, 'Keep-alive interval, in seconds (5 to 65535, as MQTT allows)')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Quality of service: 0, 1 or 2')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('interactive', 'interactive', [CompletionResultType]::ParameterValue, 'Build command messages at prompts, see them encoded, decode replies (the default)')
            [CompletionResult]::new('encode', 'encode', [CompletionResultType]::ParameterValue, 'Encode JSON or text format into wire bytes')
            [CompletionResult]::new('decode', 'decode', [CompletionResultType]::ParameterValue, 'Decode wire bytes (hex, base64 or binary) into a table, JSON or text')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the message types (and enums, services) of the schema')
            [CompletionResult]::new('describe', 'describe', [CompletionResultType]::ParameterValue, 'Show a message''s fields, an enum''s values or a service''s methods')
            [CompletionResult]::new('send', 'send', [CompletionResultType]::ParameterValue, 'Publish a command over MQTT and show the decoded reply')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Decode every message on MQTT topics (a fleet''s replies, telemetry, events)')
            [CompletionResult]::new('simulate', 'simulate', [CompletionResultType]::ParameterValue, 'Simulated devices that answer commands and publish telemetry, from the schema alone')
            [CompletionResult]::new('web', 'web', [CompletionResultType]::ParameterValue, 'The command form and live views in a browser (a local web page)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'commander;interactive' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Message type to build (default: the profile''s command type)')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'Message type to build (default: the profile''s command type)')
            [CompletionResult]::new('--response-type', '--response-type', [CompletionResultType]::ParameterName, 'Type of the replies to decode (default: the profile''s response type)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for a reply after publishing, like 10s')
            [CompletionResult]::new('--link', '--link', [CompletionResultType]::ParameterName, 'Envelope link: auto, none, or SELECTOR=ONEOF (field paths, like header.op=body.content)')
            [CompletionResult]::new('--bytes-as', '--bytes-as', [CompletionResultType]::ParameterName, 'Build the message carried in a bytes field: FIELD.PATH=TYPE (repeatable)')
            [CompletionResult]::new('--broker', '--broker', [CompletionResultType]::ParameterName, 'Broker URL: mqtt://[user[:password]@]host:port, or mqtts://... for TLS')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Username')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password (better from the environment: it is never printed)')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'CA certificate (PEM) to trust for mqtts:// instead of the system''s roots')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM), for brokers that require one (with --key; mqtts:// only)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of the client certificate')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'How long the broker may take to accept a connection (each reconnect too)')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'Client id (default: commander- and a random suffix)')
            [CompletionResult]::new('--keep-alive', '--keep-alive', [CompletionResultType]::ParameterName, 'Keep-alive interval, in seconds (5 to 65535, as MQTT allows)')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Quality of service: 0, 1 or 2')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('--schema', '--schema', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto-path', '--proto-path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto_path', '--proto_path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: schema, command and response types, header defaults, MQTT')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'commander;encode' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Message type to encode (full name or unique short name)')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'Message type to encode (full name or unique short name)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'The message as JSON (proto3 JSON mapping)')
            [CompletionResult]::new('--text', '--text', [CompletionResultType]::ParameterName, 'The message in protobuf text format')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read from PATH (''-'' for stdin), as for decode')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'What FILE or stdin holds')
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'What FILE or stdin holds')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--framing', '--framing', [CompletionResultType]::ParameterName, 'Length prefix before each message')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Set a field after reading the input: FIELD.PATH=VALUE (repeatable)')
            [CompletionResult]::new('--bytes-as', '--bytes-as', [CompletionResultType]::ParameterName, 'Accept the message carried in a bytes field as JSON: FIELD.PATH=TYPE')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('--schema', '--schema', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto-path', '--proto-path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto_path', '--proto_path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: schema, command and response types, header defaults, MQTT')
            [CompletionResult]::new('--ignore-unknown', '--ignore-unknown', [CompletionResultType]::ParameterName, 'Skip JSON keys that name no field of the type (and enum names it lacks) instead of refusing them')
            [CompletionResult]::new('--defaults', '--defaults', [CompletionResultType]::ParameterName, 'First set the profile''s header defaults (message ids, time, vehicle...)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse a message that lacks a proto2 required field (default: warn)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'commander;decode' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Message type to decode as (full name or unique short name)')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'Message type to decode as (full name or unique short name)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read input from PATH (''-'' for stdin) instead of literals')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'How the input is encoded')
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'How the input is encoded')
            [CompletionResult]::new('--framing', '--framing', [CompletionResultType]::ParameterName, 'How messages are delimited in the input')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--guess', '--guess', [CompletionResultType]::ParameterName, 'With --raw: which readings to offer beside the structure')
            [CompletionResult]::new('--width', '--width', [CompletionResultType]::ParameterName, 'Draw tables no wider than N columns (0: no limit)')
            [CompletionResult]::new('--bytes-as', '--bytes-as', [CompletionResultType]::ParameterName, 'Decode the message carried in a bytes field: FIELD.PATH=TYPE')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('--schema', '--schema', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto-path', '--proto-path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto_path', '--proto_path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: schema, command and response types, header defaults, MQTT')
            [CompletionResult]::new('--raw', '--raw', [CompletionResultType]::ParameterName, 'Decode without a schema, like protoc --decode_raw')
            [CompletionResult]::new('--decode_raw', '--decode_raw', [CompletionResultType]::ParameterName, 'Decode without a schema, like protoc --decode_raw')
            [CompletionResult]::new('--emit-defaults', '--emit-defaults', [CompletionResultType]::ParameterName, 'Show fields that are at their default value too')
            [CompletionResult]::new('--camel-case', '--camel-case', [CompletionResultType]::ParameterName, 'JSON keys in lowerCamelCase instead of proto field names')
            [CompletionResult]::new('--no-unknown', '--no-unknown', [CompletionResultType]::ParameterName, 'With -o text: leave unknown fields out (they are shown by number otherwise)')
            [CompletionResult]::new('--enum-numbers', '--enum-numbers', [CompletionResultType]::ParameterName, 'Enum values as numbers in JSON (as use_integers_for_enums)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'commander;list' {
            [CompletionResult]::new('--filter', '--filter', [CompletionResultType]::ParameterName, 'Only names containing S (case-insensitive)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('--schema', '--schema', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto-path', '--proto-path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto_path', '--proto_path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: schema, command and response types, header defaults, MQTT')
            [CompletionResult]::new('--enums', '--enums', [CompletionResultType]::ParameterName, 'List enum types')
            [CompletionResult]::new('--services', '--services', [CompletionResultType]::ParameterName, 'List services')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Include the well-known types (google.protobuf.*)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'commander;describe' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('--schema', '--schema', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto-path', '--proto-path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto_path', '--proto_path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: schema, command and response types, header defaults, MQTT')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'commander;send' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Message type to send (default: the profile''s command type)')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'Message type to send (default: the profile''s command type)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'The message as JSON (proto3 JSON mapping)')
            [CompletionResult]::new('--text', '--text', [CompletionResultType]::ParameterName, 'The message in protobuf text format')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read from PATH (''-'' for stdin), as for decode')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Set a field: FIELD.PATH=VALUE (repeatable, as for encode)')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Topic to publish to (default: the profile''s command_topic)')
            [CompletionResult]::new('--response-topic', '--response-topic', [CompletionResultType]::ParameterName, 'Topic the reply comes on (default: the profile''s response_topic)')
            [CompletionResult]::new('--response-type', '--response-type', [CompletionResultType]::ParameterName, 'Type of the reply (default: the profile''s response type)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the reply, like 10s or 500ms')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format of the reply')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format of the reply')
            [CompletionResult]::new('--width', '--width', [CompletionResultType]::ParameterName, 'Draw tables no wider than N columns (0: no limit)')
            [CompletionResult]::new('--bytes-as', '--bytes-as', [CompletionResultType]::ParameterName, 'Decode the message carried in a bytes field: FIELD.PATH=TYPE')
            [CompletionResult]::new('--broker', '--broker', [CompletionResultType]::ParameterName, 'Broker URL: mqtt://[user[:password]@]host:port, or mqtts://... for TLS')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Username')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password (better from the environment: it is never printed)')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'CA certificate (PEM) to trust for mqtts:// instead of the system''s roots')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM), for brokers that require one (with --key; mqtts:// only)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of the client certificate')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'How long the broker may take to accept a connection (each reconnect too)')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'Client id (default: commander- and a random suffix)')
            [CompletionResult]::new('--keep-alive', '--keep-alive', [CompletionResultType]::ParameterName, 'Keep-alive interval, in seconds (5 to 65535, as MQTT allows)')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Quality of service: 0, 1 or 2')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('--schema', '--schema', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto-path', '--proto-path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto_path', '--proto_path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: schema, command and response types, header defaults, MQTT')
            [CompletionResult]::new('--ignore-unknown', '--ignore-unknown', [CompletionResultType]::ParameterName, 'Skip JSON keys that name no field of the type (and enum names it lacks) instead of refusing them')
            [CompletionResult]::new('--no-defaults', '--no-defaults', [CompletionResultType]::ParameterName, 'Do not fill the header from the profile''s defaults')
            [CompletionResult]::new('--any-reply', '--any-reply', [CompletionResultType]::ParameterName, 'Take the first message on the response topic as the reply, even when there is no correlation_id or message_id to match it on')
            [CompletionResult]::new('--no-reply', '--no-reply', [CompletionResultType]::ParameterName, 'Publish only: wait for the broker''s acknowledgement, not for a reply')
            [CompletionResult]::new('--enum-numbers', '--enum-numbers', [CompletionResultType]::ParameterName, 'Enum values as numbers in JSON (as use_integers_for_enums)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'commander;listen' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Message type for topics without a --type or profile mapping')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'Message type for topics without a --type or profile mapping')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Decode messages on topics matching FILTER as TYPE (repeatable)')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Topic filter to subscribe to (repeatable; default: the profile''s [mqtt.types] filters)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Stop after N messages')
            [CompletionResult]::new('--session', '--session', [CompletionResultType]::ParameterName, 'Persistent session NAME (also the client id): messages sent while away arrive on return')
            [CompletionResult]::new('--share', '--share', [CompletionResultType]::ParameterName, 'Share the subscriptions with other listeners in GROUP ($share/GROUP/FILTER)')
            [CompletionResult]::new('--guess', '--guess', [CompletionResultType]::ParameterName, 'With --raw: which readings to offer beside the structure')
            [CompletionResult]::new('--width', '--width', [CompletionResultType]::ParameterName, 'Draw tables no wider than N columns (0: no limit)')
            [CompletionResult]::new('--bytes-as', '--bytes-as', [CompletionResultType]::ParameterName, 'Decode the message carried in a bytes field: FIELD.PATH=TYPE')
            [CompletionResult]::new('--broker', '--broker', [CompletionResultType]::ParameterName, 'Broker URL: mqtt://[user[:password]@]host:port, or mqtts://... for TLS')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Username')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password (better from the environment: it is never printed)')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'CA certificate (PEM) to trust for mqtts:// instead of the system''s roots')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM), for brokers that require one (with --key; mqtts:// only)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of the client certificate')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'How long the broker may take to accept a connection (each reconnect too)')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'Client id (default: commander- and a random suffix)')
            [CompletionResult]::new('--keep-alive', '--keep-alive', [CompletionResultType]::ParameterName, 'Keep-alive interval, in seconds (5 to 65535, as MQTT allows)')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Quality of service: 0, 1 or 2')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('--schema', '--schema', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto-path', '--proto-path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto_path', '--proto_path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: schema, command and response types, header defaults, MQTT')
            [CompletionResult]::new('--raw', '--raw', [CompletionResultType]::ParameterName, 'Decode without a schema, like protoc --decode_raw')
            [CompletionResult]::new('--enum-numbers', '--enum-numbers', [CompletionResultType]::ParameterName, 'Enum values as numbers in JSON (as use_integers_for_enums)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'commander;simulate' {
            [CompletionResult]::new('--vehicles', '--vehicles', [CompletionResultType]::ParameterName, 'How many devices, with ids from the profile''s [simulate] ids template (default SIM{n:04})')
            [CompletionResult]::new('--vehicle', '--vehicle', [CompletionResultType]::ParameterName, 'A device id to simulate (repeatable)')
            [CompletionResult]::new('--fill', '--fill', [CompletionResultType]::ParameterName, 'Fields without a template: plausible values (random) or left unset (empty)')
            [CompletionResult]::new('--delay', '--delay', [CompletionResultType]::ParameterName, 'Wait this long before each reply: a duration (200ms) or a range (100ms..2s)')
            [CompletionResult]::new('--fail-rate', '--fail-rate', [CompletionResultType]::ParameterName, 'Share of commands answered with the error return code (0 to 1)')
            [CompletionResult]::new('--drop-rate', '--drop-rate', [CompletionResultType]::ParameterName, 'Share of commands not answered at all (0 to 1), to test timeouts')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for the random choices and values, for repeatable runs')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Log format on stderr: a line per event (text) or JSON Lines')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Log format on stderr: a line per event (text) or JSON Lines')
            [CompletionResult]::new('--broker', '--broker', [CompletionResultType]::ParameterName, 'Broker URL: mqtt://[user[:password]@]host:port, or mqtts://... for TLS')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Username')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password (better from the environment: it is never printed)')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'CA certificate (PEM) to trust for mqtts:// instead of the system''s roots')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM), for brokers that require one (with --key; mqtts:// only)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of the client certificate')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'How long the broker may take to accept a connection (each reconnect too)')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'Client id (default: commander- and a random suffix)')
            [CompletionResult]::new('--keep-alive', '--keep-alive', [CompletionResultType]::ParameterName, 'Keep-alive interval, in seconds (5 to 65535, as MQTT allows)')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Quality of service: 0, 1 or 2')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('--schema', '--schema', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto-path', '--proto-path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto_path', '--proto_path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: schema, command and response types, header defaults, MQTT')
            [CompletionResult]::new('--no-publish', '--no-publish', [CompletionResultType]::ParameterName, 'Do not publish the profile''s [[simulate.publish]] messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors and the summary at exit')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors and the summary at exit')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'commander;web' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'The message type the form starts with (default: the profile''s command type)')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'The message type the form starts with (default: the profile''s command type)')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to serve the page on; anything but loopback requires a token')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'The token every request must carry (default: a random one when not on loopback)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long a send waits for its reply')
            [CompletionResult]::new('--broker', '--broker', [CompletionResultType]::ParameterName, 'Broker URL: mqtt://[user[:password]@]host:port, or mqtts://... for TLS')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Username')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password (better from the environment: it is never printed)')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'CA certificate (PEM) to trust for mqtts:// instead of the system''s roots')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM), for brokers that require one (with --key; mqtts:// only)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of the client certificate')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'How long the broker may take to accept a connection (each reconnect too)')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'Client id (default: commander- and a random suffix)')
            [CompletionResult]::new('--keep-alive', '--keep-alive', [CompletionResultType]::ParameterName, 'Keep-alive interval, in seconds (5 to 65535, as MQTT allows)')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Quality of service: 0, 1 or 2')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('--schema', '--schema', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto-path', '--proto-path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto_path', '--proto_path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: schema, command and response types, header defaults, MQTT')
            [CompletionResult]::new('--open', '--open', [CompletionResultType]::ParameterName, 'Open the page in the browser')
            [CompletionResult]::new('--no-simulate', '--no-simulate', [CompletionResultType]::ParameterName, 'With no broker given, start the embedded broker but no simulated vehicle')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'commander;completions' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('--schema', '--schema', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto-path', '--proto-path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto_path', '--proto_path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: schema, command and response types, header defaults, MQTT')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'commander;man' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('--schema', '--schema', [CompletionResultType]::ParameterName, 'Schema to load: a descriptor set, a .proto file or a directory of them')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto-path', '--proto-path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--proto_path', '--proto_path', [CompletionResultType]::ParameterName, 'Import root for .proto files (repeatable)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: schema, command and response types, header defaults, MQTT')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Leave out notes on stderr (such as which commander.toml is in effect)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'commander;help' {
            [CompletionResult]::new('interactive', 'interactive', [CompletionResultType]::ParameterValue, 'Build command messages at prompts, see them encoded, decode replies (the default)')
            [CompletionResult]::new('encode', 'encode', [CompletionResultType]::ParameterValue, 'Encode JSON or text format into wire bytes')
            [CompletionResult]::new('decode', 'decode', [CompletionResultType]::ParameterValue, 'Decode wire bytes (hex, base64 or binary) into a table, JSON or text')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the message types (and enums, services) of the schema')
            [CompletionResult]::new('describe', 'describe', [CompletionResultType]::ParameterValue, 'Show a message''s fields, an enum''s values or a service''s methods')
            [CompletionResult]::new('send', 'send', [CompletionResultType]::ParameterValue, 'Publish a command over MQTT and show the decoded reply')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Decode every message on MQTT topics (a fleet''s replies, telemetry, events)')
            [CompletionResult]::new('simulate', 'simulate', [CompletionResultType]::ParameterValue, 'Simulated devices that answer commands and publish telemetry, from the schema alone')
            [CompletionResult]::new('web', 'web', [CompletionResultType]::ParameterValue, 'The command form and live views in a browser (a local web page)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'commander;help;interactive' {
            break
        }
        'commander;help;encode' {
            break
        }
        'commander;help;decode' {
            break
        }
        'commander;help;list' {
            break
        }
        'commander;help;describe' {
            break
        }
        'commander;help;send' {
            break
        }
        'commander;help;listen' {
            break
        }
        'commander;help;simulate' {
            break
        }
        'commander;help;web' {
            break
        }
        'commander;help;completions' {
            break
        }
        'commander;help;man' {
            break
        }
        'commander;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
