package kafkalab.reference;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Future;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Kafka's Java client against one broker: Admin, KafkaProducer and KafkaConsumer, as an application
 * uses them. tests/wire/test_client_battery.py runs it and checks what it prints, one fact a line:
 *
 * <pre>
 *   topic NAME PARTITIONS             Admin.createTopics, then describeTopics
 *   produced KEY PARTITION OFFSET     KafkaProducer (idempotent, acks=all, the default partitioner)
 *   consumed KEY PARTITION OFFSET     KafkaConsumer in a group (subscribe, poll)
 *   committed PARTITION OFFSET        commitSync, read back with committed()
 *   deleted NAME                      Admin.deleteTopics
 *   OK
 * </pre>
 *
 * Usage: JavaClientBattery BOOTSTRAP TOPIC_PREFIX. Any failure exits non-zero with its stack trace.
 */
public final class JavaClientBattery {
    static final int PARTITIONS = 3;
    static final int RECORDS = 30;
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: JavaClientBattery BOOTSTRAP TOPIC_PREFIX");
            System.exit(2);
        }
        String bootstrap = args[0];
        String topic = args[1] + "-java";
        String group = args[1] + "-java-group";

        Properties adminConfig = new Properties();
        adminConfig.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(adminConfig)) {
            admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
            Set<String> names = admin.listTopics().names().get();
            check(names.contains(topic), "listTopics does not list " + topic + ": " + names);
            TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            System.out.println("topic " + topic + " " + description.partitions().size());

            List<String> keys = produce(bootstrap, topic);
            consume(bootstrap, topic, group, keys.size());
            admin.deleteTopics(List.of(topic)).all().get();
            System.out.println("deleted " + topic);
        }
        System.out.println("OK");
    }

    static List<String> produce(String bootstrap, String topic) throws Exception {
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        List<String> keys = new ArrayList<>();
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
            for (int i = 0; i < RECORDS; i++) {
                String key = "key-" + i;
                keys.add(key);
                sent.add(producer.send(new ProducerRecord<>(topic, key, "value-" + i)));
            }
            producer.flush();
            for (int i = 0; i < RECORDS; i++) {
                RecordMetadata metadata = sent.get(i).get();
                System.out.println("produced " + keys.get(i) + " " + metadata.partition() + " " + metadata.offset());
            }
        }
        return keys;
    }

    static Map<Integer, Long> consume(String bootstrap, String topic, String group, int expected) {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        Map<Integer, Long> counts = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
            consumer.subscribe(List.of(topic));
            int received = 0;
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (received < expected) {
                check(System.nanoTime() < deadline, "consumed " + received + " of " + expected + " records in " + TIMEOUT);
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    System.out.println("consumed " + record.key() + " " + record.partition() + " " + record.offset());
                    counts.merge(record.partition(), 1L, Long::sum);
                    received++;
                }
            }
            consumer.commitSync(TIMEOUT);
            Set<TopicPartition> assigned = consumer.assignment();
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(assigned, TIMEOUT);
            for (TopicPartition partition : assigned) {
                OffsetAndMetadata offset = committed.get(partition);
                System.out.println("committed " + partition.partition() + " " + (offset == null ? -1 : offset.offset()));
            }
        }
        return counts;
    }

    static void check(boolean condition, String message) {
        if (!condition) {
            throw new IllegalStateException(message);
        }
    }
}
