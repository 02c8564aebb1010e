package example.restclient;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gaffer.client.GafferClient;
import dev.gaffer.client.GafferException;
import dev.gaffer.client.JobInfo;
import dev.gaffer.client.JobRequest;
import dev.gaffer.job.JobStatus;
import java.net.URI;
import java.util.concurrent.TimeUnit;

/**
 * Creates a job over REST, approves it, and follows its event stream to the end:
 *
 * <pre>
 * GAFFER_API_KEY=gfr_... java -jar target/rest-client.jar http://127.0.0.1:4000 wordcount '{"text": "a b a"}'
 * </pre>
 *
 * Prints each event as it arrives and the job's result; exits 0 when the job completed, 1 when it
 * failed or was cancelled, 2 on a refusal (bad parameters, unknown type, a key without the right).
 */
public final class FollowJob {

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: rest-client BASE_URL TYPE PARAMETERS_JSON (key in GAFFER_API_KEY)");
            System.exit(2);
        }
        GafferClient gaffer = GafferClient.builder(URI.create(args[0]))
                .apiKey(System.getenv("GAFFER_API_KEY")) // null: a server without keys (gaffer dev)
                .build();
        try {
            JobInfo job = gaffer.create(JobRequest.of(args[1], new ObjectMapper().readTree(args[2])));
            System.out.println("created job " + job.jobId() + " (" + job.status().name().toLowerCase() + ")");
            gaffer.approve(job.jobId());
            JobInfo done = gaffer.watch(job.jobId(), e -> System.out.println("event " + e.id() + ": " + e.kind()))
                    .get(5, TimeUnit.MINUTES);
            System.out.println("job " + done.jobId() + " " + done.status().name().toLowerCase());
            System.out.println("result: " + done.result());
            System.exit(done.status() == JobStatus.COMPLETED ? 0 : 1);
        } catch (GafferException e) {
            System.err.println("refused: " + e.getMessage());
            System.exit(2);
        }
    }
}
