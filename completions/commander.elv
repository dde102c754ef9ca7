
use builtin;
use str;

set edit:completion:arg-completer[commander] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'commander'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'commander'= {
            cand -s 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand --schema 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand -I 'Import root for .proto files (repeatable)'
            cand --proto-path 'Import root for .proto files (repeatable)'
            cand --proto_path 'Import root for .proto files (repeatable)'
            cand --profile 'Profile: schema, command and response types, header defaults, MQTT'
            cand -m 'Message type to build (default: the profile''s command type)'
            cand --message 'Message type to build (default: the profile''s command type)'
            cand --response-type 'Type of the replies to decode (default: the profile''s response type)'
            cand --timeout 'How long to wait for a reply after publishing, like 10s'
            cand --link 'Envelope link: auto, none, or SELECTOR=ONEOF (field paths, like header.op=body.content)'
            cand --bytes-as 'Build the message carried in a bytes field: FIELD.PATH=TYPE (repeatable)'
            cand --broker 'Broker URL: mqtt://[user[:password]@]host:port, or mqtts://... for TLS'
            cand --username 'Username'
            cand --password 'Password (better from the environment: it is never printed)'
            cand --ca 'CA certificate (PEM) to trust for mqtts:// instead of the system''s roots'
            cand --cert 'Client certificate (PEM), for brokers that require one (with --key; mqtts:// only)'
            cand --key 'Private key (PEM) of the client certificate'
            cand --connect-timeout 'How long the broker may take to accept a connection (each reconnect too)'
            cand --client-id 'Client id (default: commander- and a random suffix)'
            cand --keep-alive 'Keep-alive interval, in seconds (5 to 65535, as MQTT allows)'
            cand --qos 'Quality of service: 0, 1 or 2'
            cand -q 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand --quiet 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand interactive 'Build command messages at prompts, see them encoded, decode replies (the default)'
            cand encode 'Encode JSON or text format into wire bytes'
            cand decode 'Decode wire bytes (hex, base64 or binary) into a table, JSON or text'
            cand list 'List the message types (and enums, services) of the schema'
            cand describe 'Show a message''s fields, an enum''s values or a service''s methods'
            cand send 'Publish a command over MQTT and show the decoded reply'
            cand listen 'Decode every message on MQTT topics (a fleet''s replies, telemetry, events)'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page (roff)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'commander;interactive'= {
            cand -m 'Message type to build (default: the profile''s command type)'
            cand --message 'Message type to build (default: the profile''s command type)'
            cand --response-type 'Type of the replies to decode (default: the profile''s response type)'
            cand --timeout 'How long to wait for a reply after publishing, like 10s'
            cand --link 'Envelope link: auto, none, or SELECTOR=ONEOF (field paths, like header.op=body.content)'
            cand --bytes-as 'Build the message carried in a bytes field: FIELD.PATH=TYPE (repeatable)'
            cand --broker 'Broker URL: mqtt://[user[:password]@]host:port, or mqtts://... for TLS'
            cand --username 'Username'
            cand --password 'Password (better from the environment: it is never printed)'
            cand --ca 'CA certificate (PEM) to trust for mqtts:// instead of the system''s roots'
            cand --cert 'Client certificate (PEM), for brokers that require one (with --key; mqtts:// only)'
            cand --key 'Private key (PEM) of the client certificate'
            cand --connect-timeout 'How long the broker may take to accept a connection (each reconnect too)'
            cand --client-id 'Client id (default: commander- and a random suffix)'
            cand --keep-alive 'Keep-alive interval, in seconds (5 to 65535, as MQTT allows)'
            cand --qos 'Quality of service: 0, 1 or 2'
            cand -s 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand --schema 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand -I 'Import root for .proto files (repeatable)'
            cand --proto-path 'Import root for .proto files (repeatable)'
            cand --proto_path 'Import root for .proto files (repeatable)'
            cand --profile 'Profile: schema, command and response types, header defaults, MQTT'
            cand -q 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand --quiet 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'commander;encode'= {
            cand -m 'Message type to encode (full name or unique short name)'
            cand --message 'Message type to encode (full name or unique short name)'
            cand --json 'The message as JSON (proto3 JSON mapping)'
            cand --text 'The message in protobuf text format'
            cand --file 'Read from PATH (''-'' for stdin), as for decode'
            cand -i 'What FILE or stdin holds'
            cand --input 'What FILE or stdin holds'
            cand -f 'Output format'
            cand --format 'Output format'
            cand --framing 'Length prefix before each message'
            cand --set 'Set a field after reading the input: FIELD.PATH=VALUE (repeatable)'
            cand --bytes-as 'Accept the message carried in a bytes field as JSON: FIELD.PATH=TYPE'
            cand -s 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand --schema 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand -I 'Import root for .proto files (repeatable)'
            cand --proto-path 'Import root for .proto files (repeatable)'
            cand --proto_path 'Import root for .proto files (repeatable)'
            cand --profile 'Profile: schema, command and response types, header defaults, MQTT'
            cand --defaults 'First set the profile''s header defaults (message ids, time, vehicle...)'
            cand --strict 'Refuse a message that lacks a proto2 required field (default: warn)'
            cand -q 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand --quiet 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'commander;decode'= {
            cand -m 'Message type to decode as (full name or unique short name)'
            cand --message 'Message type to decode as (full name or unique short name)'
            cand --file 'Read input from PATH (''-'' for stdin) instead of literals'
            cand -i 'How the input is encoded'
            cand --input 'How the input is encoded'
            cand --framing 'How messages are delimited in the input'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --guess 'With --raw: which readings to offer beside the structure'
            cand --width 'Draw tables no wider than N columns (0: no limit)'
            cand --bytes-as 'Decode the message carried in a bytes field: FIELD.PATH=TYPE'
            cand -s 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand --schema 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand -I 'Import root for .proto files (repeatable)'
            cand --proto-path 'Import root for .proto files (repeatable)'
            cand --proto_path 'Import root for .proto files (repeatable)'
            cand --profile 'Profile: schema, command and response types, header defaults, MQTT'
            cand --raw 'Decode without a schema, like protoc --decode_raw'
            cand --decode_raw 'Decode without a schema, like protoc --decode_raw'
            cand --emit-defaults 'Show fields that are at their default value too'
            cand --camel-case 'JSON keys in lowerCamelCase instead of proto field names'
            cand --enum-numbers 'Enum values as numbers in JSON (as use_integers_for_enums)'
            cand -q 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand --quiet 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'commander;list'= {
            cand --filter 'Only names containing S (case-insensitive)'
            cand -s 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand --schema 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand -I 'Import root for .proto files (repeatable)'
            cand --proto-path 'Import root for .proto files (repeatable)'
            cand --proto_path 'Import root for .proto files (repeatable)'
            cand --profile 'Profile: schema, command and response types, header defaults, MQTT'
            cand --enums 'List enum types'
            cand --services 'List services'
            cand --all 'Include the well-known types (google.protobuf.*)'
            cand -q 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand --quiet 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'commander;describe'= {
            cand -s 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand --schema 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand -I 'Import root for .proto files (repeatable)'
            cand --proto-path 'Import root for .proto files (repeatable)'
            cand --proto_path 'Import root for .proto files (repeatable)'
            cand --profile 'Profile: schema, command and response types, header defaults, MQTT'
            cand -q 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand --quiet 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'commander;send'= {
            cand -m 'Message type to send (default: the profile''s command type)'
            cand --message 'Message type to send (default: the profile''s command type)'
            cand --json 'The message as JSON (proto3 JSON mapping)'
            cand --text 'The message in protobuf text format'
            cand --file 'Read from PATH (''-'' for stdin), as for decode'
            cand --set 'Set a field: FIELD.PATH=VALUE (repeatable, as for encode)'
            cand --topic 'Topic to publish to (default: the profile''s command_topic)'
            cand --response-topic 'Topic the reply comes on (default: the profile''s response_topic)'
            cand --response-type 'Type of the reply (default: the profile''s response type)'
            cand --timeout 'How long to wait for the reply, like 10s or 500ms'
            cand -o 'Output format of the reply'
            cand --output 'Output format of the reply'
            cand --width 'Draw tables no wider than N columns (0: no limit)'
            cand --bytes-as 'Decode the message carried in a bytes field: FIELD.PATH=TYPE'
            cand --broker 'Broker URL: mqtt://[user[:password]@]host:port, or mqtts://... for TLS'
            cand --username 'Username'
            cand --password 'Password (better from the environment: it is never printed)'
            cand --ca 'CA certificate (PEM) to trust for mqtts:// instead of the system''s roots'
            cand --cert 'Client certificate (PEM), for brokers that require one (with --key; mqtts:// only)'
            cand --key 'Private key (PEM) of the client certificate'
            cand --connect-timeout 'How long the broker may take to accept a connection (each reconnect too)'
            cand --client-id 'Client id (default: commander- and a random suffix)'
            cand --keep-alive 'Keep-alive interval, in seconds (5 to 65535, as MQTT allows)'
            cand --qos 'Quality of service: 0, 1 or 2'
            cand -s 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand --schema 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand -I 'Import root for .proto files (repeatable)'
            cand --proto-path 'Import root for .proto files (repeatable)'
            cand --proto_path 'Import root for .proto files (repeatable)'
            cand --profile 'Profile: schema, command and response types, header defaults, MQTT'
            cand --no-defaults 'Do not fill the header from the profile''s defaults'
            cand --any-reply 'Take the first message on the response topic as the reply, even when there is no correlation_id or message_id to match it on'
            cand --no-reply 'Publish only: wait for the broker''s acknowledgement, not for a reply'
            cand --enum-numbers 'Enum values as numbers in JSON (as use_integers_for_enums)'
            cand -q 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand --quiet 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'commander;listen'= {
            cand -m 'Message type for topics without a --type or profile mapping'
            cand --message 'Message type for topics without a --type or profile mapping'
            cand --type 'Decode messages on topics matching FILTER as TYPE (repeatable)'
            cand --topic 'Topic filter to subscribe to (repeatable; default: the profile''s [mqtt.types] filters)'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --count 'Stop after N messages'
            cand --session 'Persistent session NAME (also the client id): messages sent while away arrive on return'
            cand --share 'Share the subscriptions with other listeners in GROUP ($share/GROUP/FILTER)'
            cand --guess 'With --raw: which readings to offer beside the structure'
            cand --width 'Draw tables no wider than N columns (0: no limit)'
            cand --bytes-as 'Decode the message carried in a bytes field: FIELD.PATH=TYPE'
            cand --broker 'Broker URL: mqtt://[user[:password]@]host:port, or mqtts://... for TLS'
            cand --username 'Username'
            cand --password 'Password (better from the environment: it is never printed)'
            cand --ca 'CA certificate (PEM) to trust for mqtts:// instead of the system''s roots'
            cand --cert 'Client certificate (PEM), for brokers that require one (with --key; mqtts:// only)'
            cand --key 'Private key (PEM) of the client certificate'
            cand --connect-timeout 'How long the broker may take to accept a connection (each reconnect too)'
            cand --client-id 'Client id (default: commander- and a random suffix)'
            cand --keep-alive 'Keep-alive interval, in seconds (5 to 65535, as MQTT allows)'
            cand --qos 'Quality of service: 0, 1 or 2'
            cand -s 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand --schema 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand -I 'Import root for .proto files (repeatable)'
            cand --proto-path 'Import root for .proto files (repeatable)'
            cand --proto_path 'Import root for .proto files (repeatable)'
            cand --profile 'Profile: schema, command and response types, header defaults, MQTT'
            cand --raw 'Decode without a schema, like protoc --decode_raw'
            cand --enum-numbers 'Enum values as numbers in JSON (as use_integers_for_enums)'
            cand -q 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand --quiet 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'commander;completions'= {
            cand -s 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand --schema 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand -I 'Import root for .proto files (repeatable)'
            cand --proto-path 'Import root for .proto files (repeatable)'
            cand --proto_path 'Import root for .proto files (repeatable)'
            cand --profile 'Profile: schema, command and response types, header defaults, MQTT'
            cand -q 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand --quiet 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'commander;man'= {
            cand -s 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand --schema 'Schema to load: a descriptor set, a .proto file or a directory of them'
            cand -I 'Import root for .proto files (repeatable)'
            cand --proto-path 'Import root for .proto files (repeatable)'
            cand --proto_path 'Import root for .proto files (repeatable)'
            cand --profile 'Profile: schema, command and response types, header defaults, MQTT'
            cand -q 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand --quiet 'Leave out notes on stderr (such as which commander.toml is in effect)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'commander;help'= {
            cand interactive 'Build command messages at prompts, see them encoded, decode replies (the default)'
            cand encode 'Encode JSON or text format into wire bytes'
            cand decode 'Decode wire bytes (hex, base64 or binary) into a table, JSON or text'
            cand list 'List the message types (and enums, services) of the schema'
            cand describe 'Show a message''s fields, an enum''s values or a service''s methods'
            cand send 'Publish a command over MQTT and show the decoded reply'
            cand listen 'Decode every message on MQTT topics (a fleet''s replies, telemetry, events)'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page (roff)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'commander;help;interactive'= {
        }
        &'commander;help;encode'= {
        }
        &'commander;help;decode'= {
        }
        &'commander;help;list'= {
        }
        &'commander;help;describe'= {
        }
        &'commander;help;send'= {
        }
        &'commander;help;listen'= {
        }
        &'commander;help;completions'= {
        }
        &'commander;help;man'= {
        }
        &'commander;help;help'= {
        }
    ]
    $completions[$command]
}
